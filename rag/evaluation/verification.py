"""Verification benchmark: LLM answers, faithful and with planted errors, against the verifier.

A benchmark item is one answer a capable model wrote for a recorded prompt, with the
passages of that prompt (numbered from 1) stored in the item, so the benchmark does not
depend on the index. `plant_errors` makes copies of a faithful answer with one sentence
changed the ways that mislead a reader most: a number, a number word, a name or place, a
negation, a claim from outside the passages, a right fact cited to the wrong passage.

`score_verifier` runs each answer through the verifier as the LLM answerer does and
reports how often faithful answers get any flag (false alarms) and how often a planted
error is flagged or makes the answer fall back to quotes (caught).
"""

from __future__ import annotations

import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.answer.verify import Verifier
from rag.evaluation.metrics import EvalSetError, read_jsonl
from rag.ingest.sentences import sentence_spans
from rag.retrieve.lexical import looks_english, terms
from rag.types import Chunk, Passage

FAITHFUL = "faithful"
PLANTED_KINDS = ("number", "number_word", "name", "negation", "outside", "wrong_passage")
_MARKERS = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_NUMBER = re.compile(r"(?<![\[\d.,])\b\d+\b(?![\]\d])")
_NUMBER_WORDS_SV = ("två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio", "elva", "tolv")
_NUMBER_WORDS_EN = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_NAME = re.compile(r"(?<=[a-zåäöé,] )[A-ZÅÄÖ][a-zåäöé]+(?:s)?\b")
_NEGATABLE = re.compile(r"\b(är|var|har|hade|kan|ska|måste|blev|finns|fick|is|was|has|had)\b")
_OUTSIDE = (
    "Arbetet finansierades med 4,5 miljoner kronor från Vinnova",
    "Beslutet fattades enhälligt av kommunfullmäktige i Uppsala 2016",
    "Enligt Socialstyrelsen deltog 312 kommuner i kartläggningen",
    "Projektet leddes av Karin Ödmark från Region Jämtland Härjedalen",
    "The work was funded with 4.5 million kronor from Vinnova",
    "According to the report, 312 municipalities took part in the survey",
)


@dataclass(frozen=True)
class VerifyItem:
    """One LLM answer over the passages of its prompt; `planted` is the changed sentence."""

    id: str
    question: str
    answer: str  # with [n] markers; passage n is passages[n - 1]
    passages: tuple[Passage, ...]
    kind: str = FAITHFUL  # FAITHFUL or one of PLANTED_KINDS
    planted: str = ""  # the changed sentence as it stands in `answer` (markers included)
    part: str = "train"  # "train" (tunes the verifier) or HELD_PART (the final figure only)

    @property
    def language(self) -> str:
        """'en' or 'sv', from the answer's function words."""
        return "en" if looks_english(self.answer) else "sv"


def load_benchmark(path: Path) -> list[VerifyItem]:
    """Read a benchmark JSONL file (see `item_record` for the shape).

    A planted copy stored without passages has those of its faithful answer.

    Raises:
        EvalSetError: the file is missing or a line does not follow the shape.

    """
    if not path.is_file():
        raise EvalSetError(f"Verification benchmark {path} not found.")
    items = read_jsonl(path, _verify_item)
    passages = {i.id: i.passages for i in items if i.passages}
    try:
        return [i if i.passages else replace(i, passages=passages[_base(i.id)]) for i in items]
    except KeyError as exc:
        raise EvalSetError(f"{path}: no answer {exc} holds the passages of its copies") from exc


def _base(item_id: str) -> str:
    """The faithful answer's id of a planted copy ("v012~name" -> "v012")."""
    return item_id.split("~")[0]


def _verify_item(raw: dict[str, Any]) -> VerifyItem:
    passages = tuple(
        Passage(Chunk(**p), n, 0.0) for n, p in enumerate(raw.get("passages", []), start=1)
    )
    return VerifyItem(
        str(raw["id"]),
        str(raw["question"]),
        str(raw["answer"]),
        passages,
        str(raw.get("kind", FAITHFUL)),
        str(raw.get("planted", "")),
        str(raw.get("part", "train")),
    )


def item_record(item: VerifyItem, with_passages: bool = True) -> dict[str, Any]:
    """The JSON shape of a benchmark item (a planted copy may leave out its passages)."""
    record: dict[str, Any] = {
        "id": item.id,
        "part": item.part,
        "kind": item.kind,
        "question": item.question,
        "answer": item.answer,
        "planted": item.planted,
    }
    if with_passages:
        record["passages"] = [asdict(p.chunk) for p in item.passages]
    return record


def write_benchmark(items: Sequence[VerifyItem], path: Path) -> None:
    """Write items as JSONL, each answer's passages once (its planted copies refer to them)."""
    written: set[str] = set()
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            record = item_record(item, with_passages=_base(item.id) not in written)
            written.add(_base(item.id))
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def plant_errors(item: VerifyItem, names: Sequence[str], seed: int = 0) -> list[VerifyItem]:
    """Copies of a faithful answer, each with one sentence changed in one of PLANTED_KINDS.

    `names` are capitalised words of the corpus to swap a name or place for. A kind
    that finds nothing to change in this answer gives no copy.
    """
    rng = random.Random(f"{item.id}:{seed}")
    spans = list(sentence_spans(item.answer))
    sentences = [item.answer[a:b] for a, b in spans]
    cited = [i for i, s in enumerate(sentences) if _MARKERS.search(s)]
    passage_text = " ".join(p.chunk.text for p in item.passages)
    copies = []
    for kind in PLANTED_KINDS:
        order = rng.sample(cited, len(cited))
        for i in order:
            changed = _PLANTERS[kind](sentences[i], item, passage_text, names, rng)
            if changed and changed != sentences[i]:
                a, b = spans[i]
                if kind == "outside":  # a sentence of its own, after sentence i
                    answer = item.answer[:b] + " " + changed + item.answer[b:]
                else:
                    answer = item.answer[:a] + changed + item.answer[b:]
                copies.append(
                    replace(item, id=f"{item.id}~{kind}", answer=answer, kind=kind, planted=changed)
                )
                break
    return copies


def _change_number(
    s: str, item: VerifyItem, text: str, _: Sequence[str], rng: random.Random
) -> str:
    found = [m for m in _NUMBER.finditer(_MARKERS.sub(lambda m: " " * len(m.group()), s))]
    if not found:
        return ""
    m = rng.choice(found)
    value = int(m.group())
    for step in rng.sample([1, 2, 3, -1, -2], 5):
        new = value + step if 1900 <= value <= 2099 else value + step * max(1, value // 10)
        if new > 0 and not re.search(rf"\b{new}\b", text):
            return s[: m.start()] + str(new) + s[m.end() :]
    return ""


def _change_number_word(
    s: str, item: VerifyItem, text: str, _: Sequence[str], rng: random.Random
) -> str:
    for words in (_NUMBER_WORDS_SV, _NUMBER_WORDS_EN):
        m = re.search(rf"\b({'|'.join(words)})\b", s, re.IGNORECASE)
        if m:
            others = [w for w in words if w != m.group().lower() and w not in text.lower().split()]
            if others:
                return s[: m.start()] + rng.choice(others) + s[m.end() :]
    return ""


def _change_name(
    s: str, item: VerifyItem, text: str, names: Sequence[str], rng: random.Random
) -> str:
    found = [m for m in _NAME.finditer(s) if m.group().rstrip("s") in text]
    if not found:
        return ""
    m = rng.choice(found)
    genitive = m.group().endswith("s") and m.group()[:-1] in text
    pool = [n for n in names if n not in text and n != m.group()]
    if not pool:
        return ""
    new = rng.choice(pool) + ("s" if genitive else "")
    return s[: m.start()] + new + s[m.end() :]


def _negate(s: str, item: VerifyItem, text: str, _: Sequence[str], rng: random.Random) -> str:
    if re.search(r"\b(inte|not|ej|aldrig|never)\b", s, re.IGNORECASE):
        return ""
    m = _NEGATABLE.search(s)
    if not m:
        return ""
    word = "not" if m.group() in ("is", "was", "has", "had") else "inte"
    return s[: m.end()] + f" {word}" + s[m.end() :]


def _outside(s: str, item: VerifyItem, text: str, _: Sequence[str], rng: random.Random) -> str:
    english = looks_english(item.answer)
    claims = [c for c in _OUTSIDE if looks_english(c) == english]
    n = rng.randint(1, len(item.passages))
    return f"{rng.choice(claims)} [{n}]."


def _wrong_passage(
    s: str, item: VerifyItem, text: str, _: Sequence[str], rng: random.Random
) -> str:
    markers = list(re.finditer(r"\[(\d+)\]", s))
    if not markers or len(item.passages) < 2:
        return ""
    claim = set(terms(_MARKERS.sub("", s)))
    cited = {int(m.group(1)) for m in markers}
    unrelated = [
        n
        for n, p in enumerate(item.passages, start=1)
        if n not in cited and len(claim & set(terms(p.chunk.text))) <= len(claim) // 4
    ]
    if not unrelated:
        return ""
    wrong = rng.choice(unrelated)
    return re.sub(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]", f"[{wrong}]", s)


_PLANTERS: dict[str, Callable[[str, VerifyItem, str, Sequence[str], random.Random], str]] = {
    "number": _change_number,
    "number_word": _change_number_word,
    "name": _change_name,
    "negation": _negate,
    "outside": _outside,
    "wrong_passage": _wrong_passage,
}


@dataclass(frozen=True)
class VerifyOutcome:
    """What the verifier made of one benchmark answer."""

    id: str
    kind: str
    part: str
    language: str
    flagged: int  # sentences flagged
    fell_back: bool  # no sentence supported: the user sees the quotes instead
    caught: bool  # planted: the changed sentence flagged, or the answer fell back
    reasons: tuple[str, ...]
    ms: float = 0.0  # time the verifier took


Verify = Callable[[str, Sequence[Passage], str], Any]  # Verifier.verify


def judge(item: VerifyItem, verify: Verify) -> VerifyOutcome:
    """Run one answer through `verify` and say whether its planted error was caught."""
    started = time.perf_counter()
    verified = verify(item.answer, item.passages, item.question)
    ms = (time.perf_counter() - started) * 1000
    fell_back = verified.supported_sentences == 0 and not verified.says_not_covered
    caught = fell_back or any(
        _is_planted(item, verified.text[flag.start : flag.end]) for flag in verified.flagged
    )
    return VerifyOutcome(
        item.id,
        item.kind,
        item.part,
        item.language,
        len(verified.flagged),
        fell_back,
        caught and item.kind != FAITHFUL,
        tuple(f.reason for f in verified.flagged),
        ms,
    )


def rates(outcomes: Iterable[VerifyOutcome]) -> dict[str, float]:
    """False alarms on faithful answers, errors caught on planted ones, overall and by kind."""
    outcomes = list(outcomes)
    faithful = [o for o in outcomes if o.kind == FAITHFUL]
    planted = [o for o in outcomes if o.kind != FAITHFUL]
    figures = {
        "faithful_answers": float(len(faithful)),
        "faithful_with_a_flag": _share(o.flagged > 0 for o in faithful),
        "faithful_fell_back": _share(o.fell_back for o in faithful),
        "planted_answers": float(len(planted)),
        "planted_caught": _share(o.caught for o in planted),
    }
    for kind in PLANTED_KINDS:
        of_kind = [o.caught for o in planted if o.kind == kind]
        if of_kind:
            figures[f"caught:{kind}"] = _share(of_kind)
    if outcomes:
        figures["verify_ms_p50"] = float(np.percentile([o.ms for o in outcomes], 50))
        figures["verify_ms_p95"] = float(np.percentile([o.ms for o in outcomes], 95))
    return figures


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


_QUESTION = re.compile(r"<fraga>(.*?)</fraga>", re.DOTALL)
HELD_EVERY = 3  # every third recorded answer (and its planted copies) is held apart
HELD_PART = "fresh"  # the part never trained on: the final figure only


def build_benchmark(
    prompts: Path,
    answers: Path,
    search: Callable[[str], Sequence[Passage]],
    corpus: Iterable[Chunk],
    first: int = 0,
    part: str | None = None,
) -> list[VerifyItem]:
    """Benchmark items from recorded answer prompts and the answers written for them.

    `prompts` is what `scripted_llm.py record` wrote, `answers` the {key: answer} file
    written for it. Each prompt's passages are found again with `search` and checked
    against the recorded prompt (the key is the hash of its last message), so a prompt
    recorded before the retrieval changed is refused rather than stored with other
    passages. Answers are numbered from `first`; all go to `part` if given, else every
    HELD_EVERY-th to the held-apart part (HELD_PART).

    Raises:
        EvalSetError: a prompt's passages can no longer be found.

    """
    import hashlib

    from rag.answer.prompts import answer_messages

    written = json.loads(answers.read_text(encoding="utf-8"))
    names = sorted({m.group().rstrip("s") for c in corpus for m in _NAME.finditer(c.text)} - {""})
    items: list[VerifyItem] = []
    lines = prompts.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    answer_prompts = list(  # a prompt sent twice (a history turn asked again) counts once
        {r["key"]: r for r in records if r["key"] in written and _is_answer_prompt(r)}.values()
    )
    for n, record in enumerate(answer_prompts):
        last = record["messages"][-1]["content"]
        asked = _QUESTION.findall(last)
        question = asked[0] if asked else ""
        searched = asked[1] if len(asked) > 1 else ""
        passages = tuple(search(searched or question))
        rebuilt = answer_messages(question, passages, searched)[-1].content
        if hashlib.sha1(str(rebuilt).encode()).hexdigest() != record["key"]:
            raise EvalSetError(f"prompt {record['key']}: its passages are no longer retrieved")
        part_of = part or (HELD_PART if n % HELD_EVERY == HELD_EVERY - 1 else "train")
        faithful = VerifyItem(
            f"v{first + n:03d}", question, written[record["key"]], passages, part=part_of
        )
        items += [faithful, *plant_errors(faithful, names)]
    return items


def _is_answer_prompt(record: dict[str, Any]) -> bool:
    return str(record["messages"][0]["content"]).startswith("Du svarar")


SUPPORT_KINDS = ("outside", "wrong_passage", "negation")  # what the support model flags
PLANTED_SHARE = 0.6  # of a planted sentence's words that a flagged sentence must hold
AUGMENT_SEEDS = (1, 2, 3)  # extra planted copies per train answer, beside the benchmark's own
CV_FOLDS = 5
# Share of faithful train answers (out of fold) a language's threshold may flag: English
# claims are judged across languages, where e5 separates less (docs/decisions.md).
MAX_FALSE_ALARMS = {"sv": 0.02, "en": 0.04}


@dataclass(frozen=True)
class SupportRows:
    """The support model's training rows: features, label (1 = unsupported), answer group."""

    features: list[dict[str, float]]
    labels: list[int]
    groups: list[str]
    faithful_answers: dict[str, int]  # by language: all faithful answers, modelled or not


def support_rows(items: Sequence[VerifyItem], verifier: Verifier) -> SupportRows:
    """Rows of the claims the support model decides, from the benchmark's answers.

    Faithful claims are 0; a planted outside claim, wrong citation or negation is 1.
    Each faithful answer also gets planted copies with other seeds, and claims of other
    answers (other questions) cited to its passages.
    """
    names = sorted({m.group().rstrip("s") for i in items for p in i.passages
                    for m in _NAME.finditer(p.chunk.text)} - {""})  # fmt: skip
    faithful = [i for i in items if i.kind == FAITHFUL]
    languages = Counter(i.language for i in faithful)
    rows = SupportRows([], [], [], {"sv": languages["sv"], "en": languages["en"]})
    planted = [i for i in items if i.kind in SUPPORT_KINDS]
    for seed in AUGMENT_SEEDS:
        planted += [
            c for i in faithful for c in plant_errors(i, names, seed) if c.kind in SUPPORT_KINDS
        ]
    planted += _other_answers_claims(faithful, verifier)
    for item in faithful + planted:
        for claim, cited in verifier.claims(item.answer, item.passages):
            is_planted = _is_planted(item, claim)
            if item.kind != FAITHFUL and not is_planted:
                continue  # an unchanged sentence of a planted copy
            features = verifier.modelled_features(claim, cited, item.passages)
            if features is not None:
                rows.features.append(features)
                rows.labels.append(int(is_planted))
                rows.groups.append(f"{item.language}:{_base(item.id)}")
    return rows


def _other_answers_claims(faithful: Sequence[VerifyItem], verifier: Verifier) -> list[VerifyItem]:
    """Copies of each answer with claims of other answers cited to its passages.

    One is the first claim of an answer half the list away; two are claims of the same
    language that name and count nothing, which only their meaning can give away.
    """
    plain = {
        language: [
            (i.question, text)
            for i in faithful
            if i.language == language
            for text, _ in verifier.claims(i.answer, i.passages)
            if not _NAME.search(text) and not re.search(r"\d", text)
        ]
        for language in ("sv", "en")
    }
    copies = []
    for n, item in enumerate(faithful):
        # the first sentence of an answer half the list away, as cited in this one
        other = faithful[(n + len(faithful) // 2) % len(faithful)]
        first = [text for text, _ in verifier.claims(other.answer, item.passages)][:1]
        pool = plain[item.language]
        claims = [first[0] if first else ""]
        claims += [text for q, text in pool[n % max(1, len(pool)) :][:2] if q != item.question]
        for k, text in enumerate(claims):
            if not text:
                continue
            marker = 1 + (n + k) % len(item.passages)
            copies.append(replace(item, id=f"{item.id}~other{k}", kind="outside",
                                  planted=f"{text} [{marker}]",
                                  answer=f"{item.answer} {text} [{marker}]."))  # fmt: skip
    return copies


def _is_planted(item: VerifyItem, sentence: str) -> bool:
    """Whether `sentence` is the planted one of a copy (most of its words are)."""
    planted_words = set(terms(_MARKERS.sub("", item.planted)))
    found = set(terms(_MARKERS.sub("", sentence)))
    return bool(planted_words) and len(planted_words & found) >= PLANTED_SHARE * len(planted_words)


def fit_support_model(rows: SupportRows) -> tuple[Any, dict[str, float]]:
    """A SupportModel (gradient boosting) and its out-of-fold figures on `rows`.

    Each language's threshold is the lowest that flags at most its MAX_FALSE_ALARMS
    share of the language's faithful answers out of fold (folds by answer).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GroupKFold

    from rag.answer.verify import SUPPORT_FEATURES, SupportModel

    x = np.array([[f[name] for name in SUPPORT_FEATURES] for f in rows.features])
    y, groups = np.array(rows.labels), np.array(rows.groups)

    def fitted(rows_x: np.ndarray, rows_y: np.ndarray) -> Any:
        return HistGradientBoostingClassifier(
            max_leaf_nodes=15,
            max_iter=300,
            learning_rate=0.05,
            min_samples_leaf=20,
            class_weight="balanced",
            early_stopping=False,
            random_state=0,
        ).fit(rows_x, rows_y)

    out_of_fold = np.zeros(len(y))
    for train, test in GroupKFold(CV_FOLDS).split(x, y, groups):
        out_of_fold[test] = fitted(x[train], y[train]).predict_proba(x[test])[:, 1]
    top: dict[str, float] = {}  # answer -> its most doubtful faithful claim, out of fold
    for chance, group, label in zip(out_of_fold, groups, y, strict=True):
        if not label:
            top[group] = max(top.get(group, 0.0), float(chance))
    thresholds, figures = {}, {"rows": float(len(y)), "unsupported_rows": float(y.sum())}
    for language, answers in rows.faithful_answers.items():
        doubts = sorted((v for g, v in top.items() if g.startswith(language)), reverse=True)
        allowed = int(MAX_FALSE_ALARMS[language] * answers)
        thresholds[language] = doubts[allowed] + 1e-6 if len(doubts) > allowed else 0.5
        of_language = np.array([g.startswith(language) for g in groups])
        figures[f"cv_faithful_flagged:{language}"] = (
            sum(v >= thresholds[language] for v in doubts) / answers
        )
        figures[f"cv_unsupported_caught:{language}"] = float(
            np.mean(out_of_fold[(y == 1) & of_language] >= thresholds[language])
        )
    support = SupportModel(fitted(x, y), thresholds["sv"], thresholds["en"])
    return support, figures
