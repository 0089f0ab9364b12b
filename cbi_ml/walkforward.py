"""Walk-forward folds on time-ordered rows: expanding training window, purge of h rows, no shuffling."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Fold:
    fold: int
    train_end: int  # training rows are [0, train_end)
    test_start: int  # test rows are [test_start, test_end)
    test_end: int

    @property
    def train_index(self) -> np.ndarray:
        return np.arange(self.train_end)

    @property
    def test_index(self) -> np.ndarray:
        return np.arange(self.test_start, self.test_end)


def walk_forward_folds(n_rows: int, horizon: int, n_folds: int, block: int, min_train: int = 250) -> list[Fold]:
    """The last `n_folds` blocks of `block` rows as test sets, each trained on everything before it minus a
    purge of `horizon` rows, so that no training label (which spans t..t+h) reaches into the test block.

    Rows are positions in time order on a daily calendar with labels known (the caller passes labelled rows
    only). Folds whose training set would be shorter than `min_train` are dropped.
    """
    if horizon < 0 or block <= 0 or n_folds <= 0:
        raise ValueError("horizon must be >= 0 and block, n_folds > 0")
    folds = []
    for k in range(n_folds):
        test_start = n_rows - (n_folds - k) * block
        train_end = test_start - horizon
        if test_start < 0 or train_end < min_train:
            continue
        folds.append(Fold(len(folds), train_end, test_start, min(test_start + block, n_rows)))
    return folds
