from __future__ import annotations

import pytest

from rag.answer.smalltalk import SHOWN_ARTICLES, is_small_talk, small_talk_reply
from rag.types import Article, ArticleDate, Document


def _article(title: str, year: int | None = None) -> Article:
    date = ArticleDate(str(year), year) if year else None
    return Article(Document("a.txt", title, 0, 10, (), 0), "text", date)


ARTICLES = [_article("Huset i Nordmaling", 2023), _article("Tillitsfönstret")]


@pytest.mark.parametrize(
    "message",
    ["Hej!", "hej då", "Tack så mycket!", "ok tack", "Thanks!", "?", "👍", "Vilka artiklar finns?",
     "vad kan du hjälpa mig med", "What can you do?"],
)  # fmt: skip
def test_courtesy_and_questions_about_the_chat_are_small_talk(message: str) -> None:
    assert is_small_talk(message)
    assert small_talk_reply(message, lambda: ARTICLES) is not None


@pytest.mark.parametrize(
    "message",
    ["Hej, hur många invånare har Nordmaling?", "Vilka artiklar handlar om äldreomsorg?",
     "tack för svaret, men vem ledde panelen?", "ok, och i Lund?", "Nordmaling?", "IVO"],
)  # fmt: skip
def test_a_message_asking_about_the_articles_is_a_question(message: str) -> None:
    read: list[bool] = []

    def indexed() -> list[Article]:
        read.append(True)
        return ARTICLES

    assert not is_small_talk(message)
    assert small_talk_reply(message, indexed) is None
    assert not read  # a real question never reads the article list


def test_a_greeting_says_what_the_chat_does_in_the_users_language() -> None:
    swedish = small_talk_reply("Hej!", lambda: ARTICLES) or ""
    assert (
        swedish.startswith("Hej!") and "2 artiklar" in swedish and "Huset i Nordmaling" in swedish
    )
    assert (small_talk_reply("tack", lambda: ARTICLES) or "").startswith("Varsågod!")
    english = small_talk_reply("Thank you!", lambda: ARTICLES) or ""
    assert english.startswith("You're welcome!") and "2 Swedish articles" in english


def test_a_question_about_the_sources_lists_the_articles() -> None:
    listed = small_talk_reply("Vilka artiklar finns?", lambda: ARTICLES) or ""
    assert (
        listed == "Jag svarar utifrån 2 artiklar: ”Huset i Nordmaling” (2023); ”Tillitsfönstret”."
    )
    many = [_article(f"Artikel {n}") for n in range(SHOWN_ARTICLES + 3)]
    assert (small_talk_reply("vilka källor har du?", lambda: many) or "").endswith("och 3 till.")
    empty = small_talk_reply("Which articles do you have?", lambda: []) or ""
    assert empty == "No articles are indexed yet."
