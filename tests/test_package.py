"""xlbatch installs as one import package, `xlbatch`, and nothing else.

The folders core/, gui/ and resources/ are xlbatch, xlbatch.gui and xlbatch.resources (pyproject.toml's
package-dir). A bare `import core` anywhere would load the same files a second time as another module
tree, with its own task registry, so no module, test, benchmark or packaging script may use the folder
names as packages; and the wheel must hold no other top-level name that could collide with another
distribution's.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import xlbatch

ROOT = Path(__file__).resolve().parents[1]
FOLDER_NAMES = {"core", "gui", "resources"}


def _python_sources() -> list[Path]:
    files = [ROOT / "build.spec"]
    for folder in ("core", "gui", "resources", "tests", "benchmarks", "packaging"):
        files += [p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts]
    return files


def _bare_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in FOLDER_NAMES]
    return found


def test_nothing_imports_the_folders_as_packages() -> None:
    sources = _python_sources()
    assert len(sources) > 150
    offenders = [hit for path in sources for hit in _bare_imports(path)]
    assert offenders == []


def test_the_public_surface_loads_on_first_use() -> None:
    code = textwrap.dedent(
        """
        import sys, xlbatch
        assert "xlbatch.runner" not in sys.modules and "xlbatch.tasks" not in sys.modules
        import xlbatch.runner, xlbatch.cancel, xlbatch.tasks
        assert xlbatch.run_batch is xlbatch.runner.run_batch and xlbatch.iter_events is xlbatch.runner.iter_events
        assert xlbatch.CancelToken is xlbatch.cancel.CancelToken
        assert xlbatch.Task is xlbatch.tasks.Task and xlbatch.register_task is xlbatch.tasks.register
        assert isinstance(xlbatch.__version__, str) and set(xlbatch.__all__) <= set(dir(xlbatch))
        try:
            xlbatch.no_such_name
        except AttributeError:
            pass
        else:
            raise AssertionError("a missing name must raise AttributeError")
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=60)


def test_a_plugin_task_subclasses_xlbatch_task(tmp_path: Path) -> None:
    from xlbatch.tasks.registry import unregister

    @xlbatch.register_task
    class Shout(xlbatch.Task):
        name = "shout-test"
        title = "Shout"
        description = "Counts files."

        def process(self, source, params, ctx):  # type: ignore[no-untyped-def]
            return {"name": source.name.upper()}

    try:
        (tmp_path / "a.csv").write_text("x\n1\n", encoding="utf-8")
        report = xlbatch.run_batch(task="shout-test", paths=[str(tmp_path / "a.csv")], out_dir=str(tmp_path / "o"))
        assert report.files[0].result == {"name": "A.CSV"}
    finally:
        unregister("shout-test")


def test_the_package_docstring_example_runs(tmp_path: Path) -> None:
    block = xlbatch.__doc__.split("\n\n", 1)[1].split("\n\n", 2)
    code = textwrap.dedent("\n\n".join(block[:2]))
    assert "run_batch(" in code
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    counts = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    assert counts["total"] >= 5 and counts["ok"] == counts["total"]
    assert (tmp_path / "xlbatch-output" / "summary.xlsx").is_file()


def test_python_m_xlbatch_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "xlbatch", "tasks", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert '"summarize"' in done.stdout


def test_the_wheel_holds_one_top_level_package(tmp_path: Path) -> None:
    # Built from a copy, as pip builds it for a user (build isolation), so the tree gets no build/ folder.
    source = tmp_path / "source"
    for name in ("pyproject.toml", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes((ROOT / name).read_bytes())
    for folder in ("core", "gui", "resources"):
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "wheels"), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "wheels").glob("xlbatch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"xlbatch", f"xlbatch-{xlbatch.__version__}.dist-info"}
    for module in ("xlbatch/__init__.py", "xlbatch/runner.py", "xlbatch/gui/main_window.py"):
        assert module in names
    assert "xlbatch/resources/samples/sales-2024-01.xlsx" in names and "xlbatch/resources/icons/xlbatch.ico" in names
