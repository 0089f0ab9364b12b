"""Size and power of the panel's final choice with blends among the challengers (`cbi_ml.panel.choice.choose`), on
GARCH-t panels shaped like the real one (28 correlated markets, 2,900 dates; `tests/python/panel_sim.py`).

- null: `rw_ewma`, a candidate and the candidate's blend with `rw_ewma`, the blend no better than `rw_ewma`
  (`blend_null_losses`): the share of replications whose choice leaves `rw_ewma` (at most 5% wanted);
- equal: the candidate exactly as good as `rw_ewma`, so its blend gains by averaging: the share served.

    .venv/bin/python bench/panel_blends.py --reps 400
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from panel_sim import blend_null_losses  # noqa: E402

from cbi_ml.panel.choice import BASE, choose  # noqa: E402

HORIZONS = (5, 21, 63, 126)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--cases", default="null,equal")
    args = parser.parse_args()
    for null in [case == "null" for case in args.cases.split(",")]:
        started = time.perf_counter()
        left = {h: 0 for h in HORIZONS}
        ratios: dict[int, list[float]] = {h: [] for h in HORIZONS}
        for rep in range(args.reps):
            rng = np.random.default_rng(30_000 + rep)
            for days, (losses, roots, dates) in blend_null_losses(rng, 2900, 28, HORIZONS, null=null).items():
                left[days] += choose(losses, roots, dates, days).chosen != BASE
                ratios[days].append(losses["cand+rw_ewma"].mean() / losses[BASE].mean())
        print(f"\n{'null: blend no better' if null else 'equal candidate: blend better'} ({args.reps} replications, "
              f"{time.perf_counter() - started:.0f} s)")  # fmt: skip
        print("h     left rw_ewma  MC SE   blend ratio (mean, sd)")
        for h in HORIZONS:
            rate = left[h] / args.reps
            se = np.sqrt(max(rate * (1 - rate), 0.05 * 0.95 if null else 0.0) / args.reps)
            print(f"{h:<5d} {rate:12.3f}  {se:.3f}   {np.mean(ratios[h]):.4f}, {np.std(ratios[h]):.4f}")


if __name__ == "__main__":
    main()
