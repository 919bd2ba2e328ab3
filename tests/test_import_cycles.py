"""No module of the engine (core/, the package `xlbatch`) imports itself back through others.

A cycle ties modules that should be separate (change one, and the others change with it), and at module
level it makes the import order matter: whichever module is imported first sees the other half-built.
The graph is read statically with `ast` from every module's import statements:

- `import xlbatch.a.b` and `from xlbatch.a import b` (b a module) name xlbatch.a.b, `from xlbatch.a
  import name` names xlbatch.a; relative imports are resolved. Importing a module runs its packages'
  `__init__` first, so those count too, except the importer's own packages.
- imports under `if TYPE_CHECKING:` never run and do not count; `importlib.import_module` is not seen.
- module-level and function-level imports are checked separately: a function-level import does not
  make the import order matter, but a loop closed inside a function is still a knot.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ENGINE = REPO / "core"
PACKAGE = "xlbatch"

# (importing module, imported module, line, at module level)
Edge = tuple[str, str, int, bool]


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted name -> file, for every module below `root` (the folder of `package`)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement that can run, with whether it runs at module level."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    visit_one(other, top)
            else:
                visit_one(child, top)

    def visit_one(node: ast.AST, top: bool) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append((node, top))
        else:
            inner = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(node, top and not inner)

    visit(tree, True)
    return found


def import_edges(modules: dict[str, Path]) -> list[Edge]:
    edges: list[Edge] = []
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node, top in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    source = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    source = node.module or ""
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]
            for target in targets:
                parts = target.split(".")
                for depth in range(1, len(parts) + 1):
                    imported = ".".join(parts[:depth])
                    own_package = depth < len(parts) and name.startswith(imported + ".")
                    if imported in modules and imported != name and not own_package:
                        edges.append((name, imported, node.lineno, top))
    return edges


def cycles(edges: list[Edge], module_level_only: bool) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted, in a stable order."""
    graph: dict[str, set[str]] = {}
    for source, target, _line, top in edges:
        if top or not module_level_only:
            graph.setdefault(source, set()).add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(groups)


def _describe(group: list[str], edges: list[Edge], modules: dict[str, Path]) -> str:
    members = set(group)
    lines = [
        f"  {modules[s].relative_to(REPO).as_posix()}:{line} imports {t}"
        + ("" if top else " (in a function)")
        for s, t, line, top in edges
        if s in members and t in members
    ]
    return " <-> ".join(group) + "\n" + "\n".join(sorted(set(lines)))


@pytest.mark.parametrize("module_level_only", [True, False], ids=["module-level", "with-function-level"])
def test_the_engine_has_no_import_cycle(module_level_only: bool) -> None:
    modules = module_names(ENGINE, PACKAGE)
    edges = import_edges(modules)
    assert len(modules) > 40 and len(edges) > 150  # a walk that found nothing would pass
    found = cycles(edges, module_level_only)
    assert not found, "import cycles:\n" + "\n".join(_describe(g, edges, modules) for g in found)


def test_the_check_sees_cycles_and_what_does_not_count(tmp_path: Path) -> None:
    sources = {
        "__init__.py": "",
        "a.py": "from pkg.b import thing\n",
        "b.py": "from . import c\nthing = 1\n",
        "c.py": "def late():\n    from pkg.a import thing\n",
        "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.e import x\n",
        "e.py": "import pkg.d\n",
        "sub/__init__.py": "from pkg.sub import f\n",
        "sub/f.py": "from pkg.sub import g\n",
        "sub/g.py": "",
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    modules = module_names(tmp_path, "pkg")
    edges = import_edges(modules)
    assert ("pkg.b", "pkg.c", 1, True) in edges  # a relative import names the module
    assert cycles(edges, module_level_only=True) == []
    # a -> b -> c -> a, closed inside a function; d <-> e only under TYPE_CHECKING; a package's
    # __init__ importing its own modules is not a cycle.
    assert cycles(edges, module_level_only=False) == [["pkg.a", "pkg.b", "pkg.c"]]
