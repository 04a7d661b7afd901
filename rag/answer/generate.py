"""Generate stage: an LLM streams a cited answer from the passages; verified, or quotes instead.

The answer is streamed as `TextDelta`s, then verified (rag/verify.py) into the
final `Answer`. A failing LLM (down, slow, rate-limited, error) or a reply with
no verifiable citation gives the extractive answer with a visible notice; a reply
saying the sources do not cover the question counts as abstaining.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Protocol, TypeVar

from rag.answer.llm import ChatBackend
from rag.answer.prompts import answer_messages
from rag.answer.verify import Verifier
from rag.errors import LlmError
from rag.types import Answer, Passage, TextDelta

T = TypeVar("T")

FALLBACK_NOTICE = "Språkmodellen {reason}, så svaret nedan citerar källorna direkt i stället."


class Answerer(Protocol):
    """Anything that answers a question from passages without streaming (the extractive one)."""

    def answer(self, question: str, passages: Sequence[Passage], standalone: str = "") -> Answer:
        """Answer `question` (made `standalone` when it is a follow-up) from `passages`."""


class LlmAnswerer:
    """Streams the LLM's answer, verifies its citations, falls back to `fallback` on failure."""

    def __init__(self, chat: ChatBackend, verifier: Verifier, fallback: Answerer) -> None:
        self._chat = chat
        self._verifier = verifier
        self._fallback = fallback

    def stream(
        self, question: str, passages: Sequence[Passage], searched: str = ""
    ) -> Iterator[TextDelta | Answer]:
        """Yield text deltas as the LLM writes, then the verified Answer.

        Args:
            question: the user's question.
            passages: retrieved passages; the LLM cites passage n as [n].
            searched: the standalone query of a follow-up question ("" when not a follow-up).

        """
        if not passages:
            yield self.quoted(question, passages, searched)
            return
        pieces: list[str] = []
        try:
            for piece in self._chat.stream(answer_messages(question, passages, searched)):
                pieces.append(piece)
                yield TextDelta(piece)
        except LlmError as exc:
            yield self.quoted(question, passages, searched, str(exc))
            return
        reply = "".join(pieces)
        verified = self._verifier.verify(reply, passages, f"{question} {searched}")
        if verified.supported_sentences == 0 and verified.says_not_covered:
            yield Answer(question, verified.text, True, (), tuple(passages), mode="llm")
        elif verified.supported_sentences == 0:
            why = "gav ett tomt svar" if not reply.strip() else "gav inget svar med giltiga källor"
            yield self.quoted(question, passages, searched, why)
        else:
            yield Answer(
                question,
                verified.text,
                False,
                verified.citations,
                tuple(passages),
                mode="llm",
                flagged=verified.flagged,
            )

    def quoted(
        self, question: str, passages: Sequence[Passage], searched: str = "", failure: str = ""
    ) -> Answer:
        """The extractive answer, with a notice saying why the LLM's was not used (if it failed)."""
        answer = self._fallback.answer(question, passages, searched)
        if not failure:
            return answer
        notices = (FALLBACK_NOTICE.format(reason=failure), answer.notice)
        return replace(answer, notice=" ".join(n for n in notices if n))


def relay(events: Iterable[T]) -> Generator[T, None, Answer]:
    """Yield every event of a stream but the Answer that ends it, and return that Answer."""
    answer = None
    for event in events:
        if isinstance(event, Answer):
            answer = event
        else:
            yield event
    if answer is None:
        raise RuntimeError("the answer stream ended without an Answer")
    return answer


def final_answer(events: Iterable[object]) -> Answer:
    """The Answer that ends a stream of events."""
    stream = relay(events)
    while True:
        try:
            next(stream)
        except StopIteration as end:
            answer: Answer = end.value
            return answer
