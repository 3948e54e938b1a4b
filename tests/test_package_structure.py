"""The package stays small enough to hold in one's head: short modules, short signatures, no import circles.

Every ``import`` in the package is read with :mod:`ast`, those inside functions included
(a deferred import is still a dependency), and the graph of package modules must have
no cycle; importing a submodule counts as importing the packages above it, as Python
runs their ``__init__``. The layers below are the one-way stack the dreaming path rests on.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "auditory_deepdream"
MAX_LINES = 500
MAX_PARAMETERS = 12

# each module may import only modules of its own layer or of the layers before it
LAYERS = [
    {"errors", "atomic", "settings", "options", "presets", "budget", "graph_loop"},
    {"audio"},
    {"layers", "models"},
    {"classify"},
    {"dreamer"},
]


def modules() -> dict:
    """``{dotted name: (path, is_package)}`` of every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def import_graph() -> dict:
    """``{module: set of package modules it imports}``, deferred imports included."""
    mods = modules()
    graph = {name: set() for name in mods}
    for name, (path, is_package) in mods.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom):
                base = name.split(".") if is_package else name.split(".")[:-1]
                if node.level:
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                parts = target.split(".")
                for i in range(2, len(parts) + 1):  # a submodule runs every package __init__ above it
                    parent = ".".join(parts[:i])
                    if parent in mods and parent != name and not name.startswith(parent + "."):
                        graph[name].add(parent)
    return graph


def cycles(graph: dict) -> list:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def _top(name: str) -> str:
    return name.split(".")[1] if "." in name else ""


def test_no_import_circles():
    assert cycles(import_graph()) == []


def test_a_deliberate_circle_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_dreaming_path_is_a_one_way_stack():
    rank = {top: i for i, layer in enumerate(LAYERS) for top in layer}
    wrong = []
    for name, targets in import_graph().items():
        if _top(name) not in rank:
            continue
        for target in targets:
            if _top(target) in rank and rank[_top(target)] > rank[_top(name)]:
                wrong.append(f"{name} -> {target}")
    assert wrong == []


def test_the_graph_sees_deferred_imports():
    graph = import_graph()
    assert "auditory_deepdream.dreamer" in graph["auditory_deepdream.cli.dream"]  # imported inside a handler


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_are_short(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


def test_public_functions_take_at_most_twelve_parameters():
    long = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                a = node.args
                names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs] + [x.arg for x in (a.vararg, a.kwarg)
                                                                                  if x is not None]
                names = [n for n in names if n not in ("self", "cls")]
                if len(names) > MAX_PARAMETERS:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.name} ({len(names)})")
    assert long == []
