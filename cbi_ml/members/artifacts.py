"""Saved models and their state: when to retrain, and where a member's predictors and predictions live.

`<artifacts_dir>/<member>/state.json` records the last training run: its id, time, config fingerprint, the
out-of-fold predictions file and one saved predictor per horizon. A daily build scores with these; training
happens when the policy says so (see `needs_training`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class MemberState:
    model_run_id: str
    trained_at: datetime
    fingerprint: str
    predictions_file: str
    model_paths: dict[str, str]
    last_labelled_date: str

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "trained_at": self.trained_at.isoformat()}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> MemberState:
        data = json.loads(text)
        data["trained_at"] = datetime.fromisoformat(data["trained_at"])
        return cls(**data)


def state_path(artifacts_dir: str | Path, member: str) -> Path:
    return Path(artifacts_dir) / member / "state.json"


def load_state(artifacts_dir: str | Path, member: str) -> MemberState | None:
    path = state_path(artifacts_dir, member)
    if not path.is_file():
        return None
    state = MemberState.from_json(path.read_text())
    files = [Path(state.predictions_file), *map(Path, state.model_paths.values())]
    return state if all(f.exists() for f in files) else None


def save_state(artifacts_dir: str | Path, member: str, state: MemberState) -> None:
    path = state_path(artifacts_dir, member)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.to_json())
    tmp.replace(path)  # atomic: a crash never leaves a half-written state
    serving_path(artifacts_dir, member).unlink(missing_ok=True)  # new models serve unless a gate says otherwise


def needs_training(
    state: MemberState | None, policy: str, fingerprint: str, now: datetime, max_age_days: int
) -> tuple[bool, str]:
    """(train?, why). `always` trains; `never` trains only when nothing usable is saved; `auto` also trains
    when the saved models are older than `max_age_days` or were trained with another configuration."""
    if policy == "always":
        return True, "retrain=always"
    if state is None:
        return True, "no saved models"
    if policy == "never":
        return False, "retrain=never: scoring with saved models"
    if state.fingerprint != fingerprint:
        return True, "the training configuration changed"
    age = (now - state.trained_at).total_seconds() / 86400
    if age > max_age_days:
        return True, f"saved models are {age:.1f} days old (max {max_age_days})"
    return False, f"saved models are {age:.1f} days old: scoring"


# --- Serving pointer: which saved models score. The weekly retrain's champion/challenger gate sets it after its
# training (`orchestration.retrain`); without one, the latest trained models serve.


def serving_path(artifacts_dir: str | Path, member: str) -> Path:
    return Path(artifacts_dir) / member / "serving.json"


def load_serving(artifacts_dir: str | Path, member: str) -> MemberState | None:
    """The state the serving pointer names, if it exists and its files are all there."""
    path = serving_path(artifacts_dir, member)
    if not path.is_file():
        return None
    state = MemberState.from_json(path.read_text())
    files = [Path(state.predictions_file), *map(Path, state.model_paths.values())]
    return state if all(f.exists() for f in files) else None


def serving_state(artifacts_dir: str | Path, member: str, latest: MemberState | None) -> MemberState | None:
    """The models to score with: the serving pointer's when set and usable, else `latest` (`save_state` clears
    the pointer, so models trained outside the gate serve at once)."""
    return load_serving(artifacts_dir, member) or latest


def set_serving(artifacts_dir: str | Path, member: str, state: MemberState) -> None:
    """Point scoring at `state` (atomic, like `save_state`)."""
    path = serving_path(artifacts_dir, member)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.to_json())
    tmp.replace(path)
