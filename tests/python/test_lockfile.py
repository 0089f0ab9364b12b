"""requirements.lock agrees with pyproject.toml: it was made from the current ranges (the digest `make install`
checks), and every direct dependency is pinned inside its range. The same checks on altered copies show that a
changed range, a pin outside its range or a missing package is caught, and that the settings which are not locked
(scripts, package lists) leave the digest alone. Pure Python: nothing is resolved or installed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cbi_core import lockfile
from cbi_core.pip_index import pip_settings, uv_options

PROJECT_DIR = Path(__file__).resolve().parents[2]
PYPROJECT = PROJECT_DIR / "pyproject.toml"
LOCK = PROJECT_DIR / "requirements.lock"


def test_lock_was_made_from_the_current_pyproject() -> None:
    lockfile.check(LOCK, PYPROJECT)


def test_every_direct_dependency_is_pinned_inside_its_range() -> None:
    assert lockfile.disagreements(LOCK, PYPROJECT) == []


def test_the_lock_holds_the_cpu_torch_and_no_cuda_libraries() -> None:
    pins = lockfile.pins(LOCK)
    assert pins["torch"] == "2.13.0+cpu"
    assert not [name for name in pins if name.startswith(("nvidia-", "triton"))]


def _copy(tmp_path: Path, old: str, new: str) -> Path:
    text = PYPROJECT.read_text()
    assert old in text
    changed = tmp_path / "pyproject.toml"
    changed.write_text(text.replace(old, new, 1))
    return changed


def test_a_changed_range_without_a_new_lock_says_run_make_lock(tmp_path: Path) -> None:
    changed = _copy(tmp_path, '"ray>=2.40"', '"ray>=2.41"')
    with pytest.raises(lockfile.LockError, match="run `make lock`"):
        lockfile.check(LOCK, changed)
    assert lockfile.main(["check", str(tmp_path / "missing.lock")]) == 1


def test_scripts_and_package_lists_are_not_part_of_the_lock(tmp_path: Path) -> None:
    changed = _copy(tmp_path, 'include = ["', 'include = ["extra*", "')
    changed.write_text(re.sub(r"(?m)^cbi = .*$", 'cbi = "somewhere.else:app"', changed.read_text()))
    assert lockfile.digest(changed) == lockfile.digest(PYPROJECT)
    lockfile.check(LOCK, changed)


def test_a_pin_outside_its_range_or_missing_is_reported(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    text = LOCK.read_text()
    ray = lockfile.pins(LOCK)["ray"]
    lock.write_text(re.sub(r"(?m)^duckdb==.*\n(    .*\n)*", "", text.replace(f"ray=={ray} ", "ray==2.39.0 ")))
    problems = lockfile.disagreements(lock, PYPROJECT)
    assert len(problems) == 2
    assert problems[0].startswith("duckdb: not in") and problems[1].startswith("ray: ")


def test_uv_gets_pip_s_index_settings() -> None:
    settings = {
        "index-url": "https://mirror.test/simple",
        "extra-index-url": "file:///srv/a/simple file:///srv/b/simple",
        "find-links": "/srv/wheels",
        "cert": "/etc/ca.pem",
        "default-timeout": "180",
    }
    args, env = uv_options(settings)
    assert args == [
        *("--index-strategy", "unsafe-best-match", "--default-index", "https://mirror.test/simple"),
        *("--index", "file:///srv/a/simple", "--index", "file:///srv/b/simple", "--find-links", "/srv/wheels"),
    ]
    assert env == {"SSL_CERT_FILE": "/etc/ca.pem", "UV_HTTP_TIMEOUT": "180"}


def test_pip_settings_are_read_with_pip_s_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "pip.conf"
    config.write_text(
        "[global]\nindex-url = https://a.test/simple\ntimeout = 7\nfind-links = /a\n"
        "[install]\nindex-url = https://b.test/simple\n"
    )
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    monkeypatch.setenv("PIP_FIND_LINKS", "/c")
    monkeypatch.delenv("PIP_DEFAULT_TIMEOUT", raising=False)
    monkeypatch.delenv("PIP_INDEX_URL", raising=False)
    settings = pip_settings()
    assert settings["index-url"] == "https://b.test/simple"  # [install] over [global]
    assert settings["find-links"] == "/c"  # PIP_* over every file
    assert settings["default-timeout"] == "7"
