from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_info

from rag.answer import pickled
from rag.answer.pickled import positive_chance


def test_predictions_the_tree_tables_cannot_read_run_on_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((200, 4))
    x[:, 1] = rng.integers(0, 3, 200)
    model = HistGradientBoostingClassifier(max_iter=20, categorical_features=[1])
    model.fit(x, x[:, 0] > 0.5)
    threads: list[int] = []
    predict = model.predict_proba

    def spy(rows: np.ndarray) -> np.ndarray:
        threads.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "openmp")
        return np.asarray(predict(rows))

    monkeypatch.setattr(model, "predict_proba", spy)
    chances = positive_chance(model, x[:10])
    assert np.allclose(chances, predict(x[:10])[:, 1])
    assert threads and set(threads) == {1}
    assert pickled._threads() is pickled._threads()  # one controller per process
