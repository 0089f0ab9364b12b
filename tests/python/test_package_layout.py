"""The shape of the code, read from its source with `ast` (nothing is imported): each package imports only the
packages below it (`ALLOWED`, the one declaration of the import directions), the import graph between modules
has no cycle, nor the graph between cbi_ml's subpackages and top-level modules (`members`, `combine`,
`evaluation`, `scoring`, ...: what one of them imports must not import it back through another module), and
every public function of `cbi_ml` carries type hints."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Which of CBI's packages each package may import (besides itself). `cbi` is the app, the composition root;
#: `cbi_core` holds what everything shares (settings, secrets, the warehouse connection, the run lock, the
#: calendar, the snapshot) and imports none of them.
ALLOWED: dict[str, set[str]] = {
    "cbi_core": set(),
    "ingest": {"cbi_core"},
    "cbi_ml": {"cbi_core"},
    "dashboard": {"cbi_core"},
    "orchestration": {"cbi_core", "ingest", "cbi_ml"},
    "cbi": {"cbi_core", "ingest", "cbi_ml", "dashboard", "orchestration"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for package in ALLOWED for p in sorted((ROOT / package).rglob("*.py"))}
ML_MODULES = sorted(m for m in MODULES if m.split(".")[0] == "cbi_ml")


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside an `if TYPE_CHECKING:` block (not imported at run time)."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imported_names(module: str, path: Path | None = None) -> set[str]:
    """Every module `module` imports at run time, at the top or inside a function: for `from a import b`, `a.b`
    when that is one of CBI's modules, else `a`. Relative imports are resolved against the module's package."""
    path = path or MODULES[module]
    tree = ast.parse(path.read_text())
    parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                names.add(candidate if candidate in MODULES else base)
    return names


def import_graph() -> dict[str, set[str]]:
    """Module -> the CBI modules it imports, with the packages Python runs first (importing
    `cbi_ml.members.run` runs `cbi_ml/__init__.py` and `cbi_ml/members/__init__.py`)."""
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        edges = set()
        for name in imported_names(module):
            parts = name.split(".")
            edges |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & MODULES.keys()
        graph[module] = edges - {module} - _ancestors(module)
    return graph


def _ancestors(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _unit(module: str) -> str:
    """The subpackage or top-level module of cbi_ml that `module` belongs to (`cbi_ml.combine.final` ->
    `cbi_ml.combine`)."""
    return ".".join(module.split(".")[:2])


def subpackage_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The module graph collapsed to cbi_ml's units (subpackages and top-level modules), without self-edges and
    without the root `cbi_ml/__init__.py` that every module runs first."""
    units: dict[str, set[str]] = {}
    for module, edges in graph.items():
        if module.split(".")[0] != "cbi_ml" or module == "cbi_ml":
            continue
        unit = _unit(module)
        units.setdefault(unit, set()).update(_unit(e) for e in edges if e != "cbi_ml" and _unit(e) != unit)
    return units


def test_the_graph_is_read_from_the_source():
    graph = import_graph()
    assert {"cbi_ml.members.fitting", "cbi_ml.members.kinds"} <= graph["cbi_ml.members.run"]
    assert "cbi_ml.combine.final" in graph["cbi_ml.combine.layers"]
    assert "cbi_ml.scoring" in graph["cbi_ml.combine.final"]
    units = subpackage_graph(graph)
    assert {"cbi_ml.combine", "cbi_ml.members", "cbi_ml.scoring"} <= units["cbi_ml.evaluation"]
    assert "cbi_ml.combine" not in units["cbi_ml.combine"]


def test_a_cycle_between_subpackages_is_detected():
    """Two modules that do not import each other still close a cycle when their packages do."""
    graph = {"cbi_ml.a.x": {"cbi_ml.b.y"}, "cbi_ml.b.y": set(), "cbi_ml.b.z": {"cbi_ml.a.w"}, "cbi_ml.a.w": set()}
    graphlib.TopologicalSorter(graph).prepare()
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter(subpackage_graph(graph)).prepare()


def test_a_cycle_is_detected():
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter({"a": {"b"}, "b": {"c"}, "c": {"a"}}).prepare()


def test_the_imports_have_no_cycle():
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_cbi_ml_subpackages_have_no_cycle():
    """`combine` may use `scoring`, `evaluation` may use `combine`; `combine` importing `evaluation` back would
    make the two one package in all but name."""
    try:
        graphlib.TopologicalSorter(subpackage_graph(import_graph())).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle between cbi_ml's subpackages: {' -> '.join(exc.args[1])}")


def forbidden_imports(module: str, path: Path | None = None) -> list[str]:
    """The imports of `module` that go against `ALLOWED`."""
    package = module.split(".")[0]
    return sorted(
        name
        for name in imported_names(module, path)
        if name.split(".")[0] in ALLOWED and name.split(".")[0] not in ALLOWED[package] | {package}
    )


def test_every_package_is_declared_and_every_module_is_read():
    on_disk = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert on_disk == set(ALLOWED), "a package without a declared place in ALLOWED"
    assert {"cbi.cli", "cbi_core.lock", "ingest.runner", "orchestration.assets", "dashboard.site"} <= MODULES.keys()


def test_a_forbidden_import_is_caught(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        "from cbi_core.settings import duckdb_path\n"
        "import orchestration.assets\n"
        "def late():\n    from dashboard.site import build_site\n"
        "if TYPE_CHECKING:\n    import cbi.cli\n"
    )
    assert forbidden_imports("ingest.mod", source) == ["dashboard.site", "orchestration.assets"]
    assert forbidden_imports("cbi.mod", source) == []
    assert forbidden_imports("cbi_core.mod", source) == ["dashboard.site", "orchestration.assets"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_package_imports_only_the_packages_below_it(module):
    wrong = forbidden_imports(module)
    package = module.split(".")[0]
    assert not wrong, f"{module} imports {wrong}; {package} may import only {sorted(ALLOWED[package])}"


def test_public_functions_have_type_hints():
    missing = []
    for module in ML_MODULES:
        path = MODULES[module]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name.startswith("_"):
                continue
            arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            unhinted = [a.arg for a in arguments if a.annotation is None and a.arg not in ("self", "cls")]
            unhinted += [f"*{a.arg}" for a in (node.args.vararg, node.args.kwarg) if a and a.annotation is None]
            if node.returns is None:
                unhinted.append("return")
            if unhinted:
                missing.append(f"{module}.{node.name} ({', '.join(unhinted)})")
    assert not missing, "public functions without type hints: " + "; ".join(missing)


def test_no_bench_script_shadows_a_standard_library_module():
    """`python bench/x.py` puts bench/ first on sys.path: a bench/statistics.py would be what AutoGluon gets for
    `from statistics import mean`."""
    import sys

    bench = ROOT / "bench"
    shadowing = sorted(p.name for p in bench.glob("*.py") if p.stem in sys.stdlib_module_names)
    assert not shadowing, f"bench scripts named like standard-library modules: {shadowing}"


#: Functions still over the limit, each to be split by its owner (remove a name once it is split).
LONG_FUNCTIONS = {"ingest.load.validate_frame", "ingest.sample.macro.fred_observations"}
MAX_FUNCTION_LINES = 60


def test_functions_are_at_most_60_lines():
    long = set()
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            is_function = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            if is_function and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES:
                long.add(f"{module}.{node.name}")
    assert long <= LONG_FUNCTIONS, f"functions over {MAX_FUNCTION_LINES} lines: {sorted(long - LONG_FUNCTIONS)}"
