from __future__ import annotations

import pytest

from rag.retrieve.parts import question_parts


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "Vilken befattning har Olivia Wigzell, och vilket råd leder hon?",
            ["Vilken befattning har Olivia Wigzell", "vilket råd leder hon?"],
        ),
        (
            "Vad står bottenplattan respektive bjälklaget för?",
            ["Vad står bottenplattan", "bjälklaget för?"],
        ),
        (
            "What did she say about follow-up in the GD panel and about learning in 2021?",
            ["What did she say about follow-up in the GD panel", "about learning in 2021?"],
        ),
        ("Vilka socialchefer och politiker deltog?", ["Vilka socialchefer och politiker deltog?"]),
        ("Var hölls Socialchefsdagarna 2023?", ["Var hölls Socialchefsdagarna 2023?"]),
    ],
)
def test_question_parts(question: str, parts: list[str]) -> None:
    assert question_parts(question) == parts
