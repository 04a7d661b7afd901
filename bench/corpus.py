"""Synthetic corpora made from the seeds' sentences, reproducible by seed.

Two shapes: article files (`write_articles`) that both ingest paths read from
disk, and ready chunks (`scale_chunks`) for the 10k/100k query indexes, whose
vectors are derived from real ones (`derive_vectors`) because embedding 100k
chunks on two cores takes hours. Their text, and so the lexical index, is real.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.ingest.chunk import chunk_id
from rag.ingest.sentences import sentence_spans
from rag.types import Chunk

SYNTHETIC_PREFIX = "synthetic/"
TOKENS_PER_CHUNK = 280  # mid-range of the chunker's 200-320 tokens, for sizing article files
CHARS_PER_TOKEN = 4.0  # Swedish prose with e5's tokenizer, measured on the seeds
NOISE = 0.25  # norm of the random part of a derived vector, relative to its real part


@dataclass(frozen=True)
class Sentence:
    """A sentence of the seeds and the seed chunk it was read from."""

    text: str
    title: str
    chunk: int  # index into the seed chunks, for deriving vectors


def seed_sentences(chunks: Sequence[Chunk]) -> list[Sentence]:
    """Every distinct sentence of the seed chunks (overlapping chunks share sentences)."""
    seen: set[tuple[str, int]] = set()
    found = []
    for index, chunk in enumerate(chunks):
        for start, end in sentence_spans(chunk.text, chunk.start):
            text = chunk.text[start - chunk.start : end - chunk.start]
            if (chunk.source, start) in seen or len(text.split()) < 3:
                continue
            seen.add((chunk.source, start))
            found.append(Sentence(text, chunk.title, index))
    return found


def _draw(sentences: Sequence[Sentence], rng: random.Random, chars: int) -> list[Sentence]:
    """Random sentences until their text reaches about `chars` characters."""
    drawn: list[Sentence] = []
    length = 0
    while length < chars:
        drawn.append(rng.choice(sentences))
        length += len(drawn[-1].text) + 1
    return drawn


def write_articles(sentences: Sequence[Sentence], folder: Path, chunks: int, seed: int) -> Path:
    """Write Markdown articles of random seed sentences, enough for at least `chunks` chunks.

    Each file is one article of four chunks' worth of paragraphs under a `# ` title.
    """
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_file = 4
    for number in range((chunks + per_file - 1) // per_file):
        body = _draw(sentences, rng, int(per_file * 1.2 * TOKENS_PER_CHUNK * CHARS_PER_TOKEN))
        paragraphs = [" ".join(s.text for s in body[i : i + 4]) for i in range(0, len(body), 4)]
        title = f"{body[0].title} ({number + 1})"
        text = f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"
        (folder / f"synthetic_{number:05d}.md").write_text(text, encoding="utf-8")
    return folder


@dataclass(frozen=True)
class ScaleCorpus:
    """Synthetic chunks and, per chunk, the seed chunks its sentences came from."""

    chunks: list[Chunk]
    origins: list[list[int]]  # origins[i]: seed chunk indices of chunks[i]'s sentences


def scale_chunks(sentences: Sequence[Sentence], count: int, seed: int) -> ScaleCorpus:
    """`count` chunks of 150-320 tokens of random seed sentences, with deterministic ids."""
    rng = random.Random(seed)
    chunks, origins = [], []
    for number in range(count):
        drawn = _draw(sentences, rng, int(rng.uniform(150, 320) * CHARS_PER_TOKEN))
        text = " ".join(s.text for s in drawn)
        source = f"{SYNTHETIC_PREFIX}{number // 10:05d}.txt"
        start = (number % 10) * 10_000  # ten chunks per virtual file, far enough apart
        embed_text = f"{drawn[0].title}\n{text}"
        chunks.append(
            Chunk(
                id=chunk_id(source, start, start + len(text), embed_text),
                source=source,
                title=drawn[0].title,
                section="",
                start=start,
                end=start + len(text),
                text=text,
                embed_text=embed_text,
            )
        )
        origins.append([s.chunk for s in drawn])
    return ScaleCorpus(chunks, origins)


def derive_vectors(real: np.ndarray, origins: Sequence[Sequence[int]], seed: int) -> np.ndarray:
    """Vectors for synthetic chunks: the mean of their origins' real vectors plus noise.

    Args:
        real: (n_seed_chunks, dim) real embeddings of the seed chunks.
        origins: per synthetic chunk, the seed chunk indices of its sentences.
        seed: seed of the noise.

    Returns:
        (len(origins), dim) float32, L2-normalised.

    """
    rng = np.random.default_rng(seed)
    dim = real.shape[1]
    means = np.stack([real[list(o)].mean(axis=0) for o in origins]).astype(np.float32)
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    noise = rng.standard_normal((len(origins), dim)).astype(np.float32)
    noise *= NOISE / np.linalg.norm(noise, axis=1, keepdims=True)
    vectors = means + noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors
