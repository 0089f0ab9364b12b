"""The shape of `cbi_ml`, read from its source with `ast` (nothing is imported): the import graph between its
modules has no cycle, nor the graph between its subpackages and top-level modules (`members`, `combine`,
`evaluation`, `scoring`, ...: what one of them imports must not import it back through another module), the
package never imports `ingest`, `orchestration` or `dashboard` (they depend on it, not the reverse), and every
public function carries type hints."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "cbi_ml"
FORBIDDEN = ("ingest", "orchestration", "dashboard")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside an `if TYPE_CHECKING:` block (not imported at run time)."""
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imported_names(module: str) -> set[str]:
    """Every module `module` imports at run time, at the top or inside a function: for `from a import b`, `a.b`
    when that is a module of cbi_ml, else `a`. Relative imports are resolved against the module's package."""
    path = MODULES[module]
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
    """cbi_ml module -> the cbi_ml modules it imports, with the packages Python runs first (importing
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
        if module == PACKAGE.name:
            continue
        unit = _unit(module)
        units.setdefault(unit, set()).update(_unit(e) for e in edges if e != PACKAGE.name and _unit(e) != unit)
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


def test_cbi_ml_imports_have_no_cycle():
    try:
        graphlib.TopologicalSorter(import_graph()).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle in cbi_ml: {' -> '.join(exc.args[1])}")


def test_cbi_ml_subpackages_have_no_cycle():
    """`combine` may use `scoring`, `evaluation` may use `combine`; `combine` importing `evaluation` back would
    make the two one package in all but name."""
    try:
        graphlib.TopologicalSorter(subpackage_graph(import_graph())).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle between cbi_ml's subpackages: {' -> '.join(exc.args[1])}")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_cbi_ml_does_not_import_the_packages_built_on_it(module):
    wrong = sorted(n for n in imported_names(module) if n.split(".")[0] in FORBIDDEN)
    assert not wrong, f"{module} imports {wrong}; shared code belongs in cbi_core"


def test_public_functions_have_type_hints():
    missing = []
    for module, path in MODULES.items():
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

    bench = PACKAGE.parent / "bench"
    shadowing = sorted(p.name for p in bench.glob("*.py") if p.stem in sys.stdlib_module_names)
    assert not shadowing, f"bench scripts named like standard-library modules: {shadowing}"
