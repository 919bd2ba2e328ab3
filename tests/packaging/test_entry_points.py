"""The frozen programs' entry points: loky's and multiprocessing's freeze_support first, no Qt before the
window, every backend offered when frozen."""

from __future__ import annotations

import ast
import json
import runpy
import subprocess
import sys

import pytest

import xlbatch.gui.entry
from tests.packaging.conftest import ROOT
from xlbatch.executors import available_backends

ENTRY_SCRIPTS = ["packaging/entry_gui.py", "packaging/entry_cli.py"]


def body(path: str) -> list[ast.stmt]:
    """The module's statements after its docstring."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    statements = tree.body
    if statements and isinstance(statements[0], ast.Expr) and isinstance(statements[0].value, ast.Constant):
        statements = statements[1:]
    return statements


def is_freeze_support(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and ast.unparse(statement.value.func) == "multiprocessing.freeze_support"
    )


def module_level_imports(statements: list[ast.stmt]) -> list[str]:
    names = []
    for statement in statements:
        if isinstance(statement, ast.Import):
            names += [alias.name for alias in statement.names]
        elif isinstance(statement, ast.ImportFrom):
            names.append(statement.module or "")
    return names


@pytest.mark.parametrize("path", ENTRY_SCRIPTS)
def test_entry_scripts_call_freeze_support_before_anything_else(path):
    statements = body(path)
    assert ast.unparse(statements[0]) == "import multiprocessing"
    assert ast.unparse(statements[1]) == "from loky_frozen import freeze_support as loky_freeze_support"
    assert ast.unparse(statements[2]) == "loky_freeze_support()"  # loky's helpers first (see loky_frozen.py)
    assert is_freeze_support(statements[3])


@pytest.mark.parametrize("path", [*ENTRY_SCRIPTS, "gui/entry.py", "core/__main__.py"])
def test_entry_modules_do_not_import_qt_at_module_level(path):
    for name in module_level_imports(body(path)):
        qt = ("PySide6", "shiboken6", "xlbatch.gui.app", "xlbatch.gui.main_window")
        assert not name.startswith(qt), f"{path} imports {name}"


def test_python_m_core_calls_freeze_support_first():
    main_block = next(s for s in body("core/__main__.py") if isinstance(s, ast.If))
    assert ast.unparse(main_block.test) == "__name__ == '__main__'"
    assert is_freeze_support(main_block.body[0])


@pytest.mark.parametrize("function", ["main", "gui_main"])
def test_installed_entry_points_call_freeze_support_first(function):
    definition = next(s for s in body("gui/entry.py") if isinstance(s, ast.FunctionDef) and s.name == function)
    assert is_freeze_support(definition.body[0])


def run_entry(monkeypatch, path: str, argv: list[str]) -> tuple[int, list]:
    """Run an entry script as __main__ with the desktop app replaced by a recorder."""
    calls: list = []
    def record(paths: list[str], screenshot: str | None = None, **launch: object) -> int:
        calls.append((paths, screenshot, *(launch.items() if any(launch.values()) else ())))
        return 0

    monkeypatch.setattr(xlbatch.gui.entry, "launch_gui", record)
    monkeypatch.setattr(sys, "argv", [path, *argv])
    monkeypatch.syspath_prepend(str(ROOT / "packaging"))  # what `python packaging/entry_cli.py` puts first
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(ROOT / path), run_name="__main__")
    return exit_info.value.code, calls


def test_gui_entry_opens_the_app_with_paths_and_screenshot(monkeypatch):
    assert run_entry(monkeypatch, "packaging/entry_gui.py", []) == (0, [([], None)])
    code, calls = run_entry(monkeypatch, "packaging/entry_gui.py", ["a.xlsx", "folder", "--screenshot", "w.png"])
    assert (code, calls) == (0, [(["a.xlsx", "folder"], "w.png")])


def test_gui_entry_starts_a_recipe_and_refuses_start_without_one(monkeypatch, capsys):
    args = ["--recipe", "monthly.yaml", "--start", "--exit-when-done"]
    code, calls = run_entry(monkeypatch, "packaging/entry_gui.py", args)
    launch = (("recipe", "monthly.yaml"), ("start", True), ("exit_when_done", True))
    assert (code, calls) == (0, [([], None, *launch)])
    for wrong in (["--start"], ["--recipe", "monthly.yaml", "--exit-when-done"]):
        code, calls = run_entry(monkeypatch, "packaging/entry_gui.py", wrong)
        assert code == 2 and calls == []
        assert "needs" in capsys.readouterr().err


def test_cli_entry_runs_commands_and_opens_the_app_without_one(monkeypatch, capsys):
    code, calls = run_entry(monkeypatch, "packaging/entry_cli.py", ["tasks", "--json"])
    assert code == 0 and calls == []
    import xlbatch.tasks

    names = [task["name"] for task in json.loads(capsys.readouterr().out)]
    # every built-in task; other test modules may have registered test-only tasks in this process
    assert set(xlbatch.tasks.BUILTIN_MODULES) <= set(names)
    assert run_entry(monkeypatch, "packaging/entry_cli.py", []) == (0, [([], None)])


def test_cli_entry_works_where_qt_cannot_be_imported():
    """A spawned worker re-imports the entry module: it must neither need nor load Qt."""
    script = (
        "import runpy, sys\n"
        f"sys.path.insert(0, {str(ROOT / 'packaging')!r})\n"
        "sys.modules['PySide6'] = None\n"
        "sys.argv = ['xlbatch-cli', 'tasks']\n"
        "try:\n"
        f"    runpy.run_path({str(ROOT / 'packaging' / 'entry_cli.py')!r}, run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "assert not any(name.startswith('PySide6.') for name in sys.modules), 'Qt was imported'\n"
        "print('no Qt')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "summarize" in done.stdout and done.stdout.strip().endswith("no Qt")


def test_the_frozen_programs_offer_every_backend(monkeypatch):
    """joblib too: the entry scripts start loky's workers through packaging/loky_frozen.py."""
    from xlbatch.executors import BACKENDS

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert available_backends() == BACKENDS


def test_the_windowed_entry_works_without_a_console(monkeypatch):
    """A windowed program on Windows starts with sys.stdout and sys.stderr set to None: argparse's help and
    errors and warnings must not fail on them."""
    monkeypatch.setattr(xlbatch.gui.entry, "launch_gui", lambda *a, **k: 0)
    monkeypatch.syspath_prepend(str(ROOT / "packaging"))  # what running the script puts first
    for args, code in ((["--help"], 0), (["--start"], 2)):
        monkeypatch.setattr(sys, "stdout", None)
        monkeypatch.setattr(sys, "stderr", None)
        monkeypatch.setattr(sys, "argv", ["xlbatch", *args])
        with pytest.raises(SystemExit) as exit_info:
            runpy.run_path(str(ROOT / "packaging" / "entry_gui.py"), run_name="__main__")
        assert exit_info.value.code == code
        assert sys.stdout is not None and sys.stderr is not None
