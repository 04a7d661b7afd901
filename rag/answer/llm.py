"""LLM stage: LangChain chat models (any OpenAI-compatible server, or Ollama) from settings.

The only module that imports a chat-model integration. Models are built without
touching the network; a request is bounded by the settings' timeout and retries,
and every failure of the endpoint becomes an `LlmError` whose message says why.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from pydantic import SecretStr

from rag.config import Settings
from rag.errors import LlmError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

NO_KEY = SecretStr("not-needed")  # self-hosted OpenAI-compatible servers ignore the key


class ChatBackend(ABC):
    """A chat model: one abstract streaming call; the full reply derives from it."""

    label: str  # "provider:model", safe to show (no secrets)

    @abstractmethod
    def stream(self, messages: Sequence[BaseMessage]) -> Iterator[str]:
        """Yield the reply to `messages` piece by piece.

        Raises:
            LlmError: the endpoint failed, timed out or refused the request.

        """

    def complete(self, messages: Sequence[BaseMessage]) -> str:
        """The whole reply to `messages`."""
        return "".join(self.stream(messages))


class LangChainChat(ChatBackend):
    """A LangChain chat model whose errors are turned into `LlmError`s."""

    def __init__(self, model: BaseChatModel, label: str, timeout_s: float) -> None:
        self._model = model
        self.label = label
        self._timeout_s = timeout_s

    def stream(self, messages: Sequence[BaseMessage]) -> Iterator[str]:
        """Yield the reply's text pieces as the model streams them."""
        try:
            for chunk in self._model.stream(list(messages)):
                if text := str(chunk.text):
                    yield text
        except _endpoint_errors() as exc:
            raise LlmError(_describe(exc, self._timeout_s)) from exc


def make_chat_model(settings: Settings) -> ChatBackend | None:
    """The configured chat model, or None for extractive answers; no network is touched."""
    if not settings.llm_enabled:
        return None
    s = settings
    model: BaseChatModel
    if s.llm_provider == "openai":
        from langchain_openai import ChatOpenAI

        model = ChatOpenAI(
            model=s.llm_model,
            base_url=s.llm_base_url,
            api_key=s.llm_api_key or NO_KEY,
            timeout=s.llm_timeout_s,
            max_retries=s.llm_max_retries,
            max_tokens=s.llm_max_tokens,
            temperature=s.llm_temperature,
            use_responses_api=False,  # OpenAI-compatible servers speak chat completions
        )
    else:
        from langchain_ollama import ChatOllama

        model = ChatOllama(
            model=s.llm_model,
            base_url=s.llm_base_url,
            client_kwargs={"timeout": s.llm_timeout_s},
            num_predict=s.llm_max_tokens,
            temperature=s.llm_temperature,
        )
    return LangChainChat(model, f"{s.llm_provider}:{s.llm_model}", s.llm_timeout_s)


def _endpoint_errors() -> tuple[type[Exception], ...]:
    """Exceptions that mean the endpoint failed (imported late: heavy, and only with an LLM)."""
    import httpx
    import ollama
    import openai

    return (
        openai.APIError,
        httpx.HTTPError,
        ollama.ResponseError,
        ollama.RequestError,
        ConnectionError,
        TimeoutError,
        ValueError,  # a reply the integration cannot parse
    )


def _describe(exc: Exception, timeout_s: float) -> str:
    """A short Swedish reason for the fallback notice; never includes secrets."""
    import httpx
    import openai

    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return f"svarade inte inom {timeout_s:g} s"
    status = getattr(exc, "status_code", None)  # openai.APIStatusError, ollama.ResponseError
    if status == 429:
        return "fick för många förfrågningar (HTTP 429)"
    if isinstance(status, int) and status > 0:
        return f"svarade med fel (HTTP {status})"
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        return "gick inte att nå"
    return f"gav ett oväntat svar ({type(exc).__name__})"
