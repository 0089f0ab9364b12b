"""Named random streams: one independent generator per quantity.

Each array is drawn from its own stream in a single call, so a longer sample (a later end date) extends
every series without changing its past: history is stable, as it is for real data.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """A generator determined by `seed` and the stream's `name` only."""
    digest = hashlib.sha256(name.encode()).digest()
    entropy = [seed, *np.frombuffer(digest[:16], dtype=np.uint32).tolist()]
    return np.random.default_rng(np.random.SeedSequence(entropy))
