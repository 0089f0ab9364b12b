"""The dependency lock (`requirements.lock`) and the pyproject ranges it was made from.

`make lock` writes the lock with `uv pip compile` and then stamps its first line with a digest of the part of
`pyproject.toml` the lock was resolved from (requires-python, dependencies and the `dev` extra; nothing else, so
scripts, package lists or tool settings can change without a new lock). `make install` runs `check` first: a
changed range without a new lock stops there with a message to run `make lock`, before any resolver runs.

Runs on the bare interpreter before `.venv` exists, so only the standard library is imported at module level.

    python -m cbi_core.lockfile stamp requirements.lock     # after `uv pip compile` (make lock)
    python -m cbi_core.lockfile check requirements.lock     # before installing (make install)
    python -m cbi_core.lockfile agree requirements.lock     # every direct dependency pinned inside its range
    python -m cbi_core.lockfile pin uv requirements.lock    # one package's pin with its hashes, for pip
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path("pyproject.toml")
LOCKED_EXTRAS = ("dev",)
STAMP = "# pyproject-sha256: "
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


class LockError(Exception):
    """The lock does not match pyproject.toml; the message says what to do."""


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of `-`, `_` and `.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_input(pyproject: Path) -> dict:
    """The part of pyproject.toml that the lock is resolved from."""
    project = tomllib.loads(pyproject.read_text())["project"]
    extras = project.get("optional-dependencies", {})
    return {
        "requires-python": project.get("requires-python", ""),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": {name: extras.get(name, []) for name in LOCKED_EXTRAS},
    }


def digest(pyproject: Path) -> str:
    """sha256 of the locked input, written canonically (key order and whitespace do not matter)."""
    text = json.dumps(locked_input(pyproject), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def recorded_digest(lock: Path) -> str | None:
    """The digest stamped on the lock's first line, or None when the lock has no stamp."""
    first = lock.read_text().split("\n", 1)[0]
    return first[len(STAMP) :].split()[0] if first.startswith(STAMP) else None


def stamp(lock: Path, pyproject: Path = PYPROJECT) -> None:
    """Write (or replace) the digest line at the top of the lock."""
    lines = lock.read_text().splitlines(keepends=True)
    body = lines[1:] if lines and lines[0].startswith(STAMP) else lines
    note = f"{STAMP}{digest(pyproject)} (requires-python, dependencies, extras {', '.join(LOCKED_EXTRAS)})\n"
    lock.write_text(note + "".join(body))


def check(lock: Path, pyproject: Path = PYPROJECT) -> None:
    """Raise LockError unless the lock exists and was made from pyproject's current ranges."""
    if not lock.exists():
        raise LockError(f"{lock} is missing: run `make lock` to create it from {pyproject}")
    if recorded_digest(lock) != digest(pyproject):
        raise LockError(
            f"the dependencies in {pyproject} changed since {lock} was made: run `make lock`, then commit {lock}"
        )


def pins(lock: Path) -> dict[str, str]:
    """Normalized package name -> pinned version, for every `name==version` line of the lock."""
    found = {}
    for line in lock.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            found[normalize(match.group(1))] = match.group(2)
    return found


def pin_block(lock: Path, name: str) -> str:
    """One package's requirement with its `--hash` options, as a requirements file that pip accepts."""
    lines = lock.read_text().splitlines()
    for start, line in enumerate(lines):
        match = _PIN.match(line)
        if match and normalize(match.group(1)) == normalize(name):
            block = [line]
            while block[-1].endswith("\\"):
                block.append(lines[start + len(block)])
            return "\n".join(block) + "\n"
    raise LockError(f"{lock} pins no {name}: add it to {PYPROJECT} and run `make lock`")


def disagreements(lock: Path, pyproject: Path = PYPROJECT) -> list[str]:
    """One line per direct dependency (dependencies and locked extras) that the lock misses or pins outside its
    range. Needs `packaging` (in the lock)."""
    from packaging.requirements import Requirement

    locked = pins(lock)
    wanted = locked_input(pyproject)
    problems = []
    for text in wanted["dependencies"] + [r for reqs in wanted["optional-dependencies"].values() for r in reqs]:
        requirement = Requirement(text)
        name = normalize(requirement.name)
        if name not in locked:
            problems.append(f"{requirement.name}: not in {lock} (wanted {requirement.specifier or 'any'})")
        elif not requirement.specifier.contains(locked[name], prereleases=True):
            problems.append(f"{requirement.name}: {lock} pins {locked[name]}, outside {requirement.specifier}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in {"stamp", "check", "agree", "pin"}:
        print(__doc__, file=sys.stderr)
        return 2
    lock = Path(argv[-1])
    try:
        if argv[0] == "stamp":
            stamp(lock)
        elif argv[0] == "check":
            check(lock)
        elif argv[0] == "pin":
            sys.stdout.write(pin_block(lock, argv[1]))
        elif problems := disagreements(lock):
            raise LockError(f"{lock} disagrees with {PYPROJECT}: " + "; ".join(problems) + ": run `make lock`")
    except LockError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
