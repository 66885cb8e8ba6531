"""The module graph of app, matching, geodata, texts and bench, read from EVERY import
statement (top-level, function-level and ``if TYPE_CHECKING:`` alike): no cycles, and app
reaches matching through the façade only."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "matching", "geodata", "texts", "bench")


def _modules() -> dict[str, Path]:
    """Every module of PACKAGES by dotted name (a package by its ``__init__``)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(name: str, path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module named by the statement, names it imports from it) for each statement."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            yield node.lineno, module, [alias.name for alias in node.names]


def _targets(module: str, names: list[str], known: dict[str, Path]) -> set[str]:
    """Our modules a statement imports: ``from pkg import sub`` names the submodule."""
    out = {f"{module}.{n}" for n in names if f"{module}.{n}" in known}
    if len(out) < len(names) or not names:
        parts = module.split(".")
        while parts and ".".join(parts) not in known:
            parts.pop()  # `import a.b.c` of an attribute path: its deepest module
        if parts:
            out.add(".".join(parts))
    return out


def _graph() -> dict[str, set[str]]:
    known = _modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for _, module, names in _imports(name, path):
            graph[name] |= _targets(module, names, known) - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One concrete cycle per strongly connected component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(v: str) -> None:  # Tarjan; the graph has a few hundred nodes
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return [_path_back(graph, component) for component in components]


def _path_back(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    start = min(component)
    came_from = {start: start}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & component):
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if w not in came_from:
                    came_from[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle in {component}")  # pragma: no cover


def test_the_graph_sees_function_level_and_type_checking_imports() -> None:
    """The parser reads imports inside functions and ``if TYPE_CHECKING:`` blocks too."""
    graph = _graph()
    assert "matching" in graph["app.cli.matching"]  # TYPE_CHECKING + in-function imports
    assert "bench.smes" in graph["bench.cli"]  # only imported inside a command
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_cycles() -> None:
    """No two modules of app, matching, geodata, texts or bench import each other, directly
    or round a longer loop, whatever the statement's place."""
    cycles = _cycles(_graph())
    assert cycles == [], "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_app_imports_matching_through_the_facade_only() -> None:
    """app/ names ``matching`` only: never matching.core, .rules, .engines or .sme."""
    known = _modules()
    offenders = [
        f"{known[name].relative_to(ROOT)}:{line}: {module}"
        for name in known
        if name.split(".")[0] == "app"
        for line, module, _ in _imports(name, known[name])
        if module.startswith("matching.")
    ]
    assert offenders == []


def test_nothing_imports_bench() -> None:
    """bench/ imports what it likes; app, matching, geodata and texts never import bench."""
    graph = _graph()
    offenders = sorted(
        f"{name} -> {target}"
        for name, targets in graph.items()
        if name.split(".")[0] != "bench"
        for target in targets
        if target.split(".")[0] == "bench"
    )
    assert offenders == []


def test_the_wheel_ships_no_bench() -> None:
    """The packages pyproject puts in the wheel are app, matching, geodata and texts: bench/
    (which imports app and dev-only packages) stays in the checkout."""
    import tomllib

    from setuptools import find_packages

    find = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    shipped = find_packages(str(ROOT), include=find["packages"]["find"]["include"])
    assert {p.split(".")[0] for p in shipped} == {"app", "matching", "geodata", "texts"}
    assert "bench" in _modules()  # while the checkout has it


def _positional(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    return [a.arg for a in (*function.args.posonlyargs, *function.args.args)]


def test_public_service_functions_are_keyword_only() -> None:
    """A public function of app/services takes its arguments by keyword (``def f(*, db, ...)``);
    only a one-argument helper such as ``csv_safe(value)`` keeps a positional parameter."""
    offenders = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}({', '.join(_positional(node))})"
        for path in sorted((ROOT / "app" / "services").glob("*.py"))
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and not node.name.startswith("_")
        and (len(_positional(node)) > 1 or node.args.vararg is not None)
    ]
    assert offenders == [], "take these by keyword (def f(*, ...)):\n" + "\n".join(offenders)
