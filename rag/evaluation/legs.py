"""The eval's retrieval ablation: each leg alone (dense, lexical) and fused (hybrid).

Every answerable item is searched by a retriever of each other mode over the same index;
the rankings are scored like the answering run's (Hit@k, MRR@10, nDCG@10, key facts in the
retrieved context), overall and per language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rag.config import RetrievalMode
from rag.evaluation.metrics import (
    RANK_DEPTH,
    EvalItem,
    GoldSpan,
    ItemScores,
    aggregate,
    score_ranking,
)
from rag.pipeline import Pipeline

LEGS: tuple[RetrievalMode, ...] = ("dense", "lexical", "hybrid")
LEG_METRICS = ("hit@1", "hit@3", "hit@5", "mrr@10", "ndcg@10", "fact_recall_context")


def leg_metrics(
    pipeline: Pipeline,
    items: Sequence[EvalItem],
    spans: Mapping[str, Sequence[Sequence[GoldSpan]]],
    relevant: Mapping[str, int],
    run_scores: Sequence[ItemScores],
) -> dict[str, dict[str, float]]:
    """Retrieval metrics of each leg over the answerable items, by leg name.

    `spans` and `relevant` are the run's gold spans and relevant-chunk counts by item id.
    The configured mode's leg is the answering run's own ranking (`run_scores`), so only
    the other legs search again.
    """
    answerable = [item for item in items if item.answerable]
    table: dict[str, dict[str, float]] = {}
    for leg in LEGS:
        if leg == pipeline.settings.retrieval_mode:
            scores = [s for s in run_scores if s.answerable]
        else:
            retriever = pipeline.retriever_for(leg)
            scores = [
                score_ranking(
                    item,
                    retriever.search(item.question, RANK_DEPTH),
                    spans[item.id],
                    relevant[item.id],
                )
                for item in answerable
            ]
        metrics = aggregate(scores)
        table[leg] = {key: metrics[key] for key in LEG_METRICS}
        for language in ("sv", "en"):
            table[leg][f"mrr@10 {language}"] = aggregate(
                [s for s in scores if s.language == language]
            )["mrr@10"]
    return table
