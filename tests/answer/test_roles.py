"""Text roles of sentences: on a hand-made article and on the seeds (no model)."""

from __future__ import annotations

from conftest import ROOT
from rag.answer.roles import span_roles
from rag.ingest.sentences import sentence_spans
from rag.records import passage_roles

ARTICLE = """Nytt boendestöd i Tallbacka

Kommunen öppnar ett boendestöd med tolv platser i mars. Platserna fördelas av biståndshandläggare.

Lisa Svensson, enhetschef, visar lokalerna (foto: Kalle Ek)

Text: Maria Berg, kommunikatör

Läs mer på https://tallbacka.se/boendestod

PS: Öppet hus hålls den 3 april.

Varma hälsningar
Lisa Svensson, enhetschef
Verksamhetschef inom äldreomsorgen och projektledare för omställningen i Tallbacka
"""


def _roles(text: str) -> dict[str, str]:
    spans = list(sentence_spans(text))
    return {text[s:e]: role for (s, e), role in zip(spans, span_roles(text, spans), strict=True)}


def test_a_hand_made_article_gets_each_role() -> None:
    roles = _roles(ARTICLE)
    assert roles["Nytt boendestöd i Tallbacka"] == "heading"
    assert roles["Kommunen öppnar ett boendestöd med tolv platser i mars."] == "body"
    assert roles["Lisa Svensson, enhetschef, visar lokalerna (foto: Kalle Ek)"] == "caption"
    assert roles["Text: Maria Berg, kommunikatör"] == "byline"
    assert roles["Läs mer på https://tallbacka.se/boendestod"] == "contact"
    assert roles["PS: Öppet hus hålls den 3 april."] == "aside"
    assert roles["Varma hälsningar"] == "signature"
    assert roles["Lisa Svensson, enhetschef"] == "signature"
    # a sign-off's unpunctuated title line is part of it, however few capitals it has
    title = "Verksamhetschef inom äldreomsorgen och projektledare för omställningen i Tallbacka"
    assert roles[title] == "signature"


def test_the_seeds_credits_and_sign_offs_are_not_body() -> None:
    roles: dict[str, str] = {}
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        roles |= _roles(path.read_text(encoding="utf-8"))
    assert roles["Text: Jenny Asp textkonsult"] == "byline"
    assert roles["Foto: © Mark Harris, Frozentime"] == "caption"
    assert roles[
        "Anna Burston, verksamhetschef socialpsykiatri, Lunds kommun (foto: Frozentime)"
    ] == ("caption")
    assert roles["Hälsningar Anna Burston, ordförande FSS region Skåne"] == "signature"
    assert roles["Monica Persson, ordförande FSS"] == "signature"
    assert roles[
        "Verksamhetschef inom Barn, unga och familjestöd samt projektledare för "
        "omställningsarbetet till första linjens socialtjänst i Lunds kommun"
    ] == ("signature")
    body = [s for s, role in roles.items() if role == "body"]
    assert len(body) > 0.7 * len(roles)  # most of the text is body
    # a credit inside a long sentence leaves it body text
    assert any(s.startswith("Malin Ekman Aldén") and "(foto:" in s for s in body)


def test_json_passages_name_the_roles_of_their_non_body_sentences() -> None:
    offset = 1000
    roles = passage_roles(ARTICLE, offset)
    by_role = {r["role"]: ARTICLE[r["start"] - offset : r["end"] - offset] for r in roles}
    assert by_role["byline"] == "Text: Maria Berg, kommunikatör"
    assert by_role["caption"].endswith("(foto: Kalle Ek)")
    assert "body" not in by_role
