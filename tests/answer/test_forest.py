from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, VotingClassifier

from rag.answer.forest import table_chance, tree_tables
from rag.answer.pickled import positive_chance


def _data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(600, 6)) * [1, 10, 0.01, 1, 1, 100]
    y = (x[:, 0] + x[:, 1] / 10 + rng.normal(size=600) > 0) | np.isnan(x[:, 3])
    x[rng.random(x.shape) < 0.15] = np.nan  # missing values go left or right, as learned
    return x, y


@pytest.mark.parametrize("voting", [False, True])
def test_tree_tables_give_scikit_learns_probabilities_to_the_last_bit(voting: bool) -> None:
    x, y = _data(0)
    boosted = [
        HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=15, random_state=seed)
        for seed in range(3)
    ]
    model = (
        VotingClassifier([(str(i), m) for i, m in enumerate(boosted)], voting="soft")
        if voting
        else boosted[0]
    ).fit(x, y)
    rows, _ = _data(1)
    tables = tree_tables(model)
    assert tables is not None and len(tables) == (3 if voting else 1)
    for n in (1, 5, 600):
        assert np.array_equal(table_chance(tables, rows[:n]), model.predict_proba(rows[:n])[:, 1])
    assert np.array_equal(positive_chance(model, rows), model.predict_proba(rows)[:, 1])


def test_models_the_tables_cannot_read_keep_scikit_learns_path() -> None:
    x, y = _data(0)
    x[:, 2] = np.random.default_rng(2).integers(0, 4, len(x))
    categorical = HistGradientBoostingClassifier(max_iter=5, categorical_features=[2]).fit(x, y)
    hard = VotingClassifier([("a", HistGradientBoostingClassifier(max_iter=5))]).fit(x, y)
    three = HistGradientBoostingClassifier(max_iter=5).fit(
        x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)
    )
    assert tree_tables(categorical) is None and tree_tables(hard) is None
    assert tree_tables(three) is None
    assert np.allclose(positive_chance(categorical, x[:9]), categorical.predict_proba(x[:9])[:, 1])
