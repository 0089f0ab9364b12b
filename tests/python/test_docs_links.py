"""The documentation stands on its own in a clone: every relative link in the Markdown files resolves (file and
heading), nothing points at the project machine's shared folder except the optional real data, no two files
differ only by case (they would collide on macOS and Windows), the README stays one screen, and every `make`
target and `cbi` command the README and docs/ show exists. Pure Python: no dbt, no warehouse."""

from __future__ import annotations

import importlib
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

ROOT = Path(__file__).resolve().parents[2]
#: Folders that are not the project's own text (build output, environments, tool state).
SKIP_DIRS = {"target", "logs", "site", "artifacts", "reports", "dbt_packages", "node_modules", "__pycache__"}
#: Text files scanned for references to the shared folder.
TEXT_SUFFIXES = {".md", ".py", ".sql", ".yml", ".yaml", ".toml", ".cfg", ".txt", ".j2"}
#: The sibling folder of the project machine: real data in it is optional (`make real`), anything else is not.
SHARED = re.compile(r"\.\./shared(?!/data/real)")
README_MAX_LINES = 200

LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]+`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
MAKE = re.compile(r"(?<![^\s`(])make\s+([a-z][\w-]*)")
#: A citation of a section: `README "Training budget"`, `docs/scale_out.md 'Shared warehouse'`, `INTERFACES.md §3`.
CITATION = re.compile(r"""(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md|README)\s+(?:"([^"\n]+)"|'([^'\n]+)'|(§\d+))""")
#: A repository path in backticks (`ingest/contracts.py`, `cbi_ml/members/`), optionally `path::test`.
REPO_PATH = re.compile(r"^([\w-]+(?:/[\w.-]+)+/?)(?:::\w+)?$")
#: A Python name of the project with a module and an attribute (`ingest.http.HttpLimits`, `pkg.module:attr`).
DOTTED = re.compile(r"^(?:ingest|cbi_ml|cbi_core|orchestration|dashboard|cbi)(?:\.\w+){2,}$|^\w+(?:\.\w+)+:\w+$")
FILE_SUFFIXES = (".duckdb", ".json", ".jsonl", ".yml", ".yaml", ".py", ".md", ".html", ".sql", ".csv")
#: An inline span showing one command: `cbi backtest --ray-address`, `cbi ingest fred --file PATH`.
CBI_LINE = re.compile(r"(?:^|(?<=\s))(?:\.venv/bin/)?cbi((?:\s+(?:--?[a-z][a-z-]*|[a-z][a-z-]*|\S+))*)")
CBI = re.compile(r"(?<![^\s`(])(?:\.venv/bin/)?cbi\s+([a-z][a-z-]*)(?:\s+([a-z][a-z-]*))?")


def project_files() -> Iterator[Path]:
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        for name in files:
            yield Path(folder) / name


def markdown_files() -> list[Path]:
    return sorted(p for p in project_files() if p.suffix == ".md")


def shown_documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def without_code(text: str) -> str:
    return INLINE_CODE.sub("", FENCE.sub("", text))


def code_of(text: str) -> list[str]:
    """Fenced blocks and inline code spans: where commands are shown."""
    return [m.group(0) for m in FENCE.finditer(text)] + INLINE_CODE.findall(FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        out.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return out


def link_problems(path: Path) -> list[str]:
    text = without_code(path.read_text(encoding="utf-8"))
    problems = []
    for target in LINK.findall(text) + REFERENCE.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
            continue
        file_part, _, fragment = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(ROOT)}: ({target})"
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{where} leaves the repository")
        elif not resolved.exists():
            problems.append(f"{where} does not exist")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            problems.append(f"{where} names no heading of {resolved.relative_to(ROOT)}")
    return problems


def test_every_relative_link_resolves() -> None:
    files = markdown_files()
    assert ROOT / "README.md" in files and any(p.is_relative_to(ROOT / "docs") for p in files)
    problems = [problem for path in files for problem in link_problems(path)]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_nothing_depends_on_the_shared_folder_but_optional_real_data() -> None:
    hits = []
    for path in project_files():
        if path.suffix in TEXT_SUFFIXES or path.name == "Makefile":
            for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if SHARED.search(line):
                    hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not hits, "references to the project machine's shared folder (a clone has none):\n" + "\n".join(hits)


def test_no_two_files_differ_only_by_case() -> None:
    seen: dict[str, Path] = {}
    clashes = []
    for path in project_files():
        key = str(path.relative_to(ROOT)).casefold()
        if key in seen:
            clashes.append(f"{seen[key].relative_to(ROOT)} and {path.relative_to(ROOT)}")
        seen[key] = path
    assert not clashes, "files that collide on a case-insensitive file system: " + "; ".join(clashes)


def test_the_readme_links_every_document_in_docs() -> None:
    """The README's "Read more" is the way in: a document in docs/ that it does not link is one nobody finds."""
    readme = ROOT / "README.md"
    linked = {
        (ROOT / target.partition("#")[0]).resolve()
        for target in LINK.findall(without_code(readme.read_text(encoding="utf-8")))
    }
    unlinked = [str(p.relative_to(ROOT)) for p in shown_documents()[1:] if p.resolve() not in linked]
    assert not unlinked, f"README.md links none of: {unlinked}"


def test_readme_fits_a_screen() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines (at most {README_MAX_LINES}): move detail to docs/"


def cited_file(name: str) -> Path | None:
    """A cited document: a path from the root, README, or a file name unique in the repository."""
    if name == "README":
        return ROOT / "README.md"
    if "/" in name:
        return ROOT / name if (ROOT / name).is_file() else None
    found = [p for p in markdown_files() if p.name == name]
    return found[0] if len(found) == 1 else None


def headings(path: Path) -> list[str]:
    return [h.casefold() for h in HEADING.findall(FENCE.sub("", path.read_text(encoding="utf-8")))]


def test_every_cited_section_exists() -> None:
    """Code and docs that send the reader to a section (`README "Training budget"`) name one that exists."""
    problems = []
    for path in project_files():
        if path == Path(__file__).resolve() or not (path.suffix in TEXT_SUFFIXES or path.name == "Makefile"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for name, double, single, sign in CITATION.findall(line):
                section = (double or single or sign).casefold()
                document = cited_file(name)
                if document is None or not any(h.startswith(section) for h in headings(document)):
                    problems.append(f"{path.relative_to(ROOT)}:{number}: {name} {double or single or sign}")
    assert not problems, "citations of sections that do not exist:\n" + "\n".join(problems)


def module_source(parts: list[str]) -> Path | None:
    folder = ROOT.joinpath(*parts)
    for candidate in (folder / "__init__.py", folder.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def name_problem(name: str) -> str | None:
    """None when the longest module prefix of `name` exists and defines (or imports) the next part."""
    parts = re.split(r"[.:]", name)
    for length in range(len(parts), 0, -1):
        source = module_source(parts[:length])
        if source is None:
            continue
        if length == len(parts) or re.search(rf"\b{parts[length]}\b", source.read_text(encoding="utf-8")):
            return None
        return f"{name}: no {parts[length]} in {source.relative_to(ROOT)}"
    return f"{name}: no such module"


@pytest.mark.parametrize("path", shown_documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repository_path_and_module_named_exists(path: Path) -> None:
    """A file, folder or Python name the README or docs/ shows in backticks exists (paths under a top-level folder
    the repository has; build output such as site/ is not checked)."""
    problems = []
    for span in INLINE_CODE.findall(FENCE.sub("", path.read_text(encoding="utf-8"))):
        code = span.strip("`")
        match = REPO_PATH.match(code)
        if match and (ROOT / code.split("/")[0]).is_dir() and not (ROOT / match.group(1)).exists():
            problems.append(f"{code}: no such file or folder")
        elif DOTTED.match(code) and not code.endswith(FILE_SUFFIXES):
            problems += [p for p in [name_problem(code)] if p]
    assert not problems, f"{path.relative_to(ROOT)} names what does not exist: {problems}"


#: `schema.table` in prose or diagrams (`ml.l0_predictions`, `forecasts.zl_risk`); not `cbi_ml.config` (no schema).
RELATION = re.compile(
    r"(?<![\w.])(?:raw|staging|intermediate|features|ml|forecasts|ops|reference)\.([a-z][a-z0-9_]*)(?![\w.(])"
)


def code_text() -> str:
    """Every model, seed, Python module and YAML of the project outside the tests: where a table is made."""
    suffixes = {".py", ".sql", ".yml", ".yaml", ".csv"}
    return "\n".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in project_files()
        if path.suffix in suffixes and "tests" not in path.relative_to(ROOT).parts
    )


def test_every_table_the_docs_name_is_made_by_the_code() -> None:
    """A renamed or removed table (`ml.bucket_predictions` became `ml.l0_predictions`) leaves no doc behind."""
    code = code_text()
    stale = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in shown_documents()
        for match in RELATION.finditer(path.read_text(encoding="utf-8"))
        if match.group(1) not in code
    ]
    assert not stale, "tables no model or module makes:\n" + "\n".join(sorted(set(stale)))


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", makefile, re.MULTILINE))


def cli_group() -> Any:
    """The app the `cbi` script of pyproject.toml runs."""
    script = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]["cbi"]
    module, _, attribute = script.partition(":")
    return typer.main.get_command(getattr(importlib.import_module(module), attribute))


def command_problem(group: Any, words: list[str]) -> str | None:
    """What is wrong with `cbi <words>`: an unknown command or subcommand, or an option it does not take."""
    command = group  # a click Group (typer may bring its own click: duck-typed)
    for position, word in enumerate(words):
        if word.startswith("-"):
            if getattr(command, "commands", None):  # `cbi ingest <source> --start`: whose option is not shown
                return None
            options = {o for param in command.params for o in (*param.opts, *param.secondary_opts)} | {"--help"}
            if word.split("=")[0] not in options:
                return f"cbi {' '.join(words[:position])}: no option {word}"
        elif hasattr(command, "commands") and re.fullmatch(r"[a-z][a-z-]*", word):
            if word not in command.commands:
                return f"cbi {' '.join(words[: position + 1])}: no such command"
            command = command.commands[word]
    return None


@pytest.mark.parametrize("path", shown_documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_make_target_and_cbi_command_shown_exists(path: Path) -> None:
    """In code blocks: `make <target>` and `cbi <command> [<subcommand>]`; in an inline span, which shows one
    command, its options too."""
    targets, group = make_targets(), cli_group()
    text = path.read_text(encoding="utf-8")
    missing = []
    for code in code_of(text):
        missing += [f"make {t}" for t in MAKE.findall(code) if t not in targets]
        missing += [p for m in CBI.finditer(code) if (p := command_problem(group, [w for w in m.groups() if w]))]
    for span in INLINE_CODE.findall(FENCE.sub("", text)):
        for match in CBI_LINE.finditer(span.strip("`")):
            words = re.findall(r"(?<![\w<-])(--?[a-z][a-z-]*|[a-z][a-z-]*)", match.group(1))
            missing += [p for p in [command_problem(group, words)] if p]
    assert not missing, f"{path.relative_to(ROOT)} shows commands that do not exist: {sorted(set(missing))}"
