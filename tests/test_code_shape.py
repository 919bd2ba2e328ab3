"""The code stays in small pieces: no module of `gui/` or `core/` over MAX_MODULE_LINES lines, and no
function or method anywhere (the program, its tests, benchmarks and packaging scripts) over
MAX_FUNCTION_LINES lines (from its `def` line to its last line, docstring included).

Walks every module with `ast` and lists each offender with its place, so a failure says what to split.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("gui", "core")  # module size
FOLDERS = ("gui", "core", "resources", "tests", "benchmarks", "packaging")  # function size
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

def modules(folders: tuple[str, ...] = PACKAGES) -> list[Path]:
    return sorted(p for folder in folders for p in (REPO / folder).rglob("*.py") if "__pycache__" not in p.parts)


def functions(tree: ast.AST) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function and method with its qualified name (Class.method, outer.inner)."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((prefix + child.name, child))
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def long_functions() -> dict[tuple[str, str], int]:
    """(module path, qualified name) -> lines, for every function over the limit."""
    long: dict[tuple[str, str], int] = {}
    for path in modules(FOLDERS):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for name, node in functions(tree):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                long[(path.relative_to(REPO).as_posix(), name)] = lines
    return long


def test_the_packages_are_there() -> None:
    # A walk that found nothing would pass every test below.
    for package in PACKAGES:
        assert len([p for p in modules() if p.relative_to(REPO).parts[0] == package]) >= 10, package


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_is_too_long(package: str) -> None:
    offenders = []
    for path in modules():
        relative = path.relative_to(REPO).as_posix()
        if relative.split("/")[0] != package:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{relative}: {lines} lines")
    assert not offenders, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(offenders)


@pytest.mark.parametrize("package", FOLDERS)
def test_no_function_is_too_long(package: str) -> None:
    offenders = [
        f"{path}: {name}() has {lines} lines"
        for (path, name), lines in sorted(long_functions().items())
        if path.split("/")[0] == package
    ]
    assert not offenders, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(offenders)
