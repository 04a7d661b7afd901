"""Whether a follow-up is searched with the conversation's words or on its own: learned.

Without an LLM a follow-up has two readings: its own words, and the rule's standalone
query (the last turn's words carried in front, `followup.carried_query`). Both are
searched; a logistic regression over general cues picks one. The cues are the rule's
own (a word pointing back, an opening that continues, a switch of language, few content
words), how rare the question's words are (a question naming a rare subject stands
alone), how strongly each reading's first passage is agreed on by the search legs, and
whether the question's own hits are the last turn's articles.

It is trained by `rag train` on the training follow-ups (where carrying the context
finds the conversation's article and the question alone does not, or the other way
round) and on training questions asked after another article's question (a change of
topic, where carrying misleads), the two kinds weighing the same. A question both
readings keep on the last turn's first article is carried without asking the model.
Stored as JSON beside the code (MODEL_CARD.md).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rag.errors import RagError
from rag.evaluation.metrics import EvalItem
from rag.retrieve.followup import WordWeight, carried_query, context_cues, rule_query
from rag.retrieve.lexical import terms
from rag.types import Passage, Turn

CARRY_MODEL = Path(__file__).parent / "model" / "carry.json"
CARRY_FEATURES = (
    "needs_context",  # the rule's decision
    "points_back",  # a word pointing back ("hon", "där", "their")
    "it_word",  # "det"/"it", which may point back or stand in for nothing
    "continues",  # opens with "och", "men", "and"
    "switched_language",  # asked in the other language than the turn before
    "content_words",
    "rarest_word",  # the highest idf of the question's words
    "mean_rarity",
    "alone_agreement",  # first passage's fused score, alone (x60: 2 = both legs rank it first)
    "carried_agreement",  # the same, carried
    "same_first_article",  # both readings' first passages are of one article
    "shared_with_last",  # the question's own top-3 articles among the last turn's top 3
    "last_first_article",  # the question's own first article is the last turn's first
)
TOP_ARTICLES = 3
# A follow-up the model reads alone with at least this chance of carrying is unsure: the
# answer model's chances of both readings decide (`Pipeline._follow_up`). Below it (mostly
# changes of topic) asking cost answers on the read conversation sets and the training
# follow-ups alike.
UNSURE_CARRY = 0.15
SWITCH_SEED = 0
TOPIC_CHANGES = 400  # training questions asked after another article's question


class CarryModelError(RagError):
    """The follow-up model file is missing, damaged or made for other features."""


@dataclass(frozen=True)
class CarryModel:
    """A standardised logistic regression: the chance that carrying the context finds better."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float = 0.5
    features: tuple[str, ...] = CARRY_FEATURES

    def carries(self, values: Sequence[float]) -> bool:
        """Whether a follow-up with these feature values is searched with the context."""
        return self.chance(values) >= self.threshold

    def chance(self, values: Sequence[float]) -> float:
        """The chance that carrying the context finds better (1 when the question stays).

        When both readings put the last turn's first article first, the question stays on
        it: carrying cannot mislead the search and lets the query name the subject.
        """
        named = dict(zip(self.features, values, strict=True))
        if named["same_first_article"] and named["last_first_article"]:
            return 1.0
        z = (np.asarray(values) - np.asarray(self.mean)) / np.asarray(self.scale)
        logit = float(z @ np.asarray(self.coef)) + self.intercept
        return 1 / (1 + math.exp(-logit))

    def save(self, path: Path = CARRY_MODEL) -> None:
        """Write the model as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: Path = CARRY_MODEL) -> CarryModel:
        """Read the model.

        Raises:
            CarryModelError: missing, unreadable or for other features; says how to rebuild.

        """
        fix = "Rebuild it with `rag train --only carry` (about a minute)."
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            model = cls(
                tuple(raw["mean"]),
                tuple(raw["scale"]),
                tuple(raw["coef"]),
                float(raw["intercept"]),
                float(raw["threshold"]),
                tuple(raw["features"]),
            )
        except (OSError, ValueError, TypeError, KeyError) as exc:
            problem = f"The follow-up model {path} cannot be read ({exc})."
            raise CarryModelError(f"{problem} {fix}") from exc
        if model.features != CARRY_FEATURES:
            raise CarryModelError(f"The follow-up model {path} was made for other features. {fix}")
        return model


def carry_features(
    question: str,
    history: Sequence[Turn],
    weight: WordWeight,
    alone: Sequence[Passage],
    carried: Sequence[Passage],
    last: Sequence[Passage],
) -> list[float]:
    """CARRY_FEATURES of a follow-up, from its words and both readings' passages."""
    stems = terms(question)
    rarity = [weight(t) for t in stems] or [0.0]

    def articles(passages: Sequence[Passage]) -> set[str]:
        return {p.chunk.source for p in passages[:TOP_ARTICLES]}

    def first(passages: Sequence[Passage]) -> str:
        return passages[0].chunk.source if passages else ""

    def agreement(passages: Sequence[Passage]) -> float:
        return passages[0].score * 60 if passages else 0.0

    return [
        *context_cues(question, history),
        float(len(stems)),
        max(rarity),
        float(np.mean(rarity)),
        agreement(alone),
        agreement(carried),
        float(first(alone) == first(carried)),
        float(len(articles(alone) & articles(last))),
        float(first(alone) == first(last)),
    ]


Search = Callable[[str], Sequence[Passage]]


@dataclass(frozen=True)
class CarryExample:
    """One follow-up's features, and the rank of its article in each reading (99: absent)."""

    features: list[float]
    alone_rank: int
    carried_rank: int


def carry_example(
    question: str, history_questions: Sequence[str], gold: str, search: Search, weight: WordWeight
) -> CarryExample:
    """The example of a follow-up asked after `history_questions`, about article `gold`."""
    history: list[Turn] = []
    for asked in history_questions:
        history.append(Turn(asked, "", rule_query(asked, history, weight)))
    alone = search(question)
    carried = search(carried_query(question, history, weight))
    last = search(history[-1].searched)

    def rank(passages: Sequence[Passage]) -> int:
        return next((i for i, p in enumerate(passages) if p.chunk.source == gold), 99)

    features = carry_features(question, history, weight, alone, carried, last)
    return CarryExample(features, rank(alone), rank(carried))


def topic_changes(items: Sequence[EvalItem], count: int) -> list[tuple[str, str, str]]:
    """(earlier question, question, its article): questions asked after another article's.

    Drawn with a fixed seed from standalone questions with a gold article.
    """
    rng = random.Random(SWITCH_SEED)
    pool = [i for i in items if i.gold_files and not i.history]
    changes = []
    for item in rng.sample(pool, min(count, len(pool))):
        other = rng.choice([o for o in pool if o.gold_files[0] != item.gold_files[0]])
        changes.append((other.question, item.question, item.gold_files[0]))
    return changes


def train_carry(
    conversations: Sequence[EvalItem],
    questions: Sequence[EvalItem],
    search: Search,
    weight: WordWeight,
) -> tuple[CarryModel, dict[str, float]]:
    """The model, fitted on the follow-ups and on topic changes made of the questions.

    Figures: how often the article comes first, by the rule and by the model (training).
    """
    follow_ups = [
        carry_example(i.question, i.history, i.gold_files[0], search, weight)
        for i in conversations
        if i.history and i.gold_files
    ]
    changes = [
        carry_example(question, [earlier], gold, search, weight)
        for earlier, question, gold in topic_changes(questions, TOPIC_CHANGES)
    ]
    model = fit_carry(follow_ups, changes)
    figures = {
        "follow_ups": float(len(follow_ups)),
        "topic_changes": float(len(changes)),
        "follow_ups_first_rule": first_hits(follow_ups, None),
        "follow_ups_first_model": first_hits(follow_ups, model),
        "topic_changes_first_rule": first_hits(changes, None),
        "topic_changes_first_model": first_hits(changes, model),
    }
    return model, figures


def fit_carry(follow_ups: Sequence[CarryExample], changes: Sequence[CarryExample]) -> CarryModel:
    """Fit on the examples where one reading ranks the article higher than the other.

    Follow-ups and topic changes weigh the same in all, however many of each there are:
    more follow-ups must not teach the model to carry the old topic into a new one.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    kinds = [[e for e in kind if e.alone_rank != e.carried_rank] for kind in (follow_ups, changes)]
    decisive = [e for kind in kinds for e in kind]
    x = np.array([e.features for e in decisive])
    y = np.array([int(e.carried_rank < e.alone_rank) for e in decisive])
    share = [len(decisive) / (2 * max(1, len(kind))) for kind in kinds]
    weight = np.concatenate([np.full(len(kind), w) for kind, w in zip(kinds, share, strict=True)])
    scaler = StandardScaler().fit(x)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    regression = LogisticRegression(max_iter=2000).fit((x - scaler.mean_) / scale, y, weight)
    return CarryModel(
        tuple(float(v) for v in scaler.mean_),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in regression.coef_[0]),
        float(regression.intercept_[0]),
    )


def first_hits(examples: Sequence[CarryExample], model: CarryModel | None) -> float:
    """Share of examples whose article comes first in the reading chosen (None: the rule)."""
    if not examples:
        return 0.0
    hits = 0
    for e in examples:
        carries = model.carries(e.features) if model else bool(e.features[0])
        hits += (e.carried_rank if carries else e.alone_rank) == 0
    return hits / len(examples)
