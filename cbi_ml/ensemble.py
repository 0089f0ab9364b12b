"""L2.5: greedy forward selection with replacement (Caruana et al., 2004) minimising pinball loss.

For each quantile level separately: start from nothing, repeatedly add (with replacement) the member whose
addition gives the lowest pinball loss of the running average, for a fixed number of rounds. Weights are the
selection counts over the rounds. The result can never be much worse than the best member on the rows it was
chosen on, since picking that member every round is one of the paths.
"""

from __future__ import annotations

import numpy as np

from cbi_ml.quantiles import pinball_loss


def greedy_weights(y: np.ndarray, predictions: np.ndarray, level: float, rounds: int = 25) -> np.ndarray:
    """Weights (summing to 1) over members for one quantile. `predictions` has shape (n_rows, n_members)."""
    y = np.asarray(y, dtype=float)
    n_members = predictions.shape[1]
    counts = np.zeros(n_members)
    running = np.zeros(len(y))
    for step in range(1, rounds + 1):
        candidates = (running[:, None] * (step - 1) + predictions) / step
        losses = np.array([pinball_loss(y, candidates[:, m], level).mean() for m in range(n_members)])
        best = int(np.argmin(losses))  # ties go to the earlier member: deterministic
        counts[best] += 1
        running = candidates[:, best]
    return counts / counts.sum()


def combine(predictions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted average of member predictions (n_rows, n_members) -> (n_rows,)."""
    return predictions @ weights
