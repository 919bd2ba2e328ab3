"""What build.spec bundles: every core module, the resources without their generator, no heavy extras."""

from __future__ import annotations

import inspect
import json
import pkgutil
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import xlbatch
import xlbatch.tasks
from tests.packaging.conftest import ROOT

# What the frozen programs import at run time (the project's dependencies, by import name).
RUNTIME_IMPORTS = (
    "python_calamine",
    "openpyxl",
    "xlsxwriter",
    "xlrd",  # reads .xls (core/xls_reader.py)
    "defusedxml",
    "olefile",
    "psutil",
    "et_xmlfile",
    "PySide6",
    "PySide6.QtCore",
    "PySide6.QtGui",
    "PySide6.QtWidgets",
    "shiboken6",
    "pandas",  # the python task's DataFrames, and report.tables / to_frame() (imported only when used)
    "numpy",
    "dateutil",
    "rich",  # the command line's progress bar (core/cli_progress.py)
    "joblib",  # the joblib backend (its loky helpers start through packaging/loky_frozen.py)
    "distributed",  # the dask backend
    "dask",
    "tornado",
    "msgpack",
    "cloudpickle",
)


def excluded(name: str, excludes: tuple[str, ...]) -> bool:
    return any(name == e or name.startswith(e + ".") for e in excludes)


def test_version_is_the_one_in_pyproject(support):
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    expected = re.search(r'^version\s*=\s*"([^"]+)"', project, re.MULTILINE).group(1)
    assert support.project_version(ROOT) == expected


def test_every_core_module_is_a_hidden_import(support):
    modules = set(support.core_modules(ROOT))
    walked = {"xlbatch"} | {m.name for m in pkgutil.walk_packages(xlbatch.__path__, "xlbatch.")}
    assert modules == walked
    for task_module in xlbatch.tasks.BUILTIN_MODULES:
        assert f"xlbatch.tasks.{task_module}" in modules


def test_richs_tables_loaded_by_name_are_hidden_imports(support):
    import rich._unicode_data

    modules = support.rich_modules()
    walked = {m.name for m in pkgutil.iter_modules(rich._unicode_data.__path__, "rich._unicode_data.")}
    assert "rich._unicode_data" in modules and walked and walked <= set(modules)
    assert rich._unicode_data.load("latest").__class__.__module__.startswith("rich")  # the table loads by name


def test_the_sources_are_staged_as_one_package(support, tmp_path):
    staged = support.stage_package(ROOT, tmp_path)
    assert sorted(p.name for p in staged.iterdir()) == ["xlbatch"]
    package = staged / "xlbatch"
    for module in ("__init__.py", "runner.py", "tasks/summarize.py", "gui/entry.py", "gui/main_window.py"):
        assert (package / module).is_file(), module
    assert (package / "resources" / "__init__.py").is_file() and not (package / "resources" / "samples").exists()
    assert not list(staged.rglob("__pycache__"))
    again = support.stage_package(ROOT, tmp_path)  # a second build starts from a clean copy
    assert again == staged and (package / "runner.py").is_file()


def test_staging_copies_without_copy2(support, tmp_path, monkeypatch):
    """Wine 8, where CI builds the Windows programs, lacks CopyFile2, which shutil.copy2 calls on Windows."""

    real_copytree, used = shutil.copytree, []

    def copytree(*args, **kwargs):
        bound = inspect.signature(real_copytree).bind(*args, **kwargs)
        used.append(bound.arguments.get("copy_function", shutil.copy2))  # copy2 is copytree's default
        return real_copytree(*args, **kwargs)

    monkeypatch.setattr(shutil, "copytree", copytree)
    staged = support.stage_package(ROOT, tmp_path)
    assert used and shutil.copy2 not in used
    assert (staged / "xlbatch" / "runner.py").read_bytes() == (ROOT / "core" / "runner.py").read_bytes()


def test_resources_are_bundled_under_resources_without_the_generator(support):
    datas = support.resource_datas(ROOT)
    bundled = {Path(dest, Path(src).name).as_posix() for src, dest in datas}
    for src, dest in datas:
        assert Path(src).is_file()
        assert dest == "resources" or dest.startswith("resources/") or dest.startswith("resources\\")
    samples = [p.name for p in (ROOT / "resources" / "samples").iterdir() if p.is_file() and p.suffix != ".py"]
    assert samples, "no sample workbooks to bundle"
    for name in samples:
        assert f"resources/samples/{name}" in bundled
    assert "resources/style.qss" in bundled
    assert "resources/icons/xlbatch.ico" in bundled
    assert "resources/icons/xlbatch.png" in bundled
    assert "resources/samples/make_samples.py" not in bundled
    assert not any(name.endswith((".pyc", "__init__.py")) for name in bundled)


def test_heavy_and_unused_packages_are_excluded_and_runtime_ones_are_not(support):
    for name in ("matplotlib", "scipy", "tkinter", "IPython", "pytest", "pyarrow", "botocore"):
        assert excluded(name, support.EXCLUDES), name
    for name in ("QtWebEngineCore", "QtQml", "QtQuick", "Qt3DCore", "QtMultimedia", "QtNetwork", "QtPdf"):
        assert excluded(f"PySide6.{name}", support.EXCLUDES), name
    for name in RUNTIME_IMPORTS:
        assert not excluded(name, support.EXCLUDES), name


def test_the_app_runs_without_the_excluded_packages(support, tmp_path):
    """Import every core and gui module and run a real batch with each excluded package made unimportable,
    as in the executable: an optional import must stay optional."""
    book = tmp_path / "in" / "book.xlsx"
    book.parent.mkdir()
    import xlsxwriter

    with xlsxwriter.Workbook(str(book)) as workbook:
        sheet = workbook.add_worksheet("Data")
        sheet.write_row(0, 0, ["Name", "Amount"])
        for row in range(1, 11):
            sheet.write_row(row, 0, [f"item {row}", row * 1.5])
    script = textwrap.dedent(
        f"""
        import importlib, json, os, pkgutil, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        for name in {list(support.EXCLUDES)!r}:
            sys.modules[name] = None  # import raises ImportError, as in the executable
        import xlbatch, xlbatch.gui
        for package in (xlbatch, xlbatch.gui):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                importlib.import_module(info.name)
        from xlbatch.runner import run_batch
        report = run_batch(
            task="summarize", paths=[{str(book)!r}], out_dir={str(tmp_path / "out")!r}, backend="sequential"
        )
        sheets = report.files[0].result["sheets"]
        print(json.dumps([report.counts["ok"], sheets[0]["rows"], sheets[0]["numeric_sum"]]))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    ok, rows, total = json.loads(done.stdout.strip().splitlines()[-1])
    assert (ok, rows) == (1, 11)
    assert abs(total - sum(r * 1.5 for r in range(1, 11))) < 1e-9


def test_unused_qt_files_are_dropped_and_needed_ones_kept(support):
    dropped = [
        "PySide6/plugins/imageformats/qpdf.dll",
        "PySide6/plugins/imageformats/qsvg.dll",
        "PySide6/plugins/imageformats/qjpeg.dll",
        "PySide6\\plugins\\tls\\qschannelbackend.dll",
        "PySide6/plugins/iconengines/qsvgicon.dll",
        "PySide6/opengl32sw.dll",
        "PySide6/translations/qtbase_de.qm",
        "PySide6/Qt6Pdf.dll",
        "PySide6/Qt6Network.dll",
        "PySide6/Qt/lib/libQt6Svg.so.6",
    ]
    kept = [
        "PySide6/plugins/imageformats/qico.dll",
        "PySide6/plugins/platforms/qwindows.dll",
        "PySide6/plugins/platforms/qoffscreen.dll",
        "PySide6/plugins/styles/qmodernwindowsstyle.dll",
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "PySide6/Qt6Core.dll",
        "PySide6/Qt6Gui.dll",
        "PySide6/Qt6Widgets.dll",
        "PySide6/Qt/lib/libQt6Core.so.6",
        "PySide6/QtWidgets.pyd",
        "python313.dll",
        "resources/icons/xlbatch.png",
        "resources/samples/sales-2024-01.xlsx",
    ]
    assert [name for name in dropped if support.keep_file(name)] == []
    assert [name for name in kept if not support.keep_file(name)] == []


def test_onefile_is_opt_in(support):
    assert support.onefile_requested({}) is False
    assert support.onefile_requested({"XLBATCH_ONEFILE": "0"}) is False
    assert support.onefile_requested({"XLBATCH_ONEFILE": ""}) is False
    for value in ("1", "true", "YES", " on "):
        assert support.onefile_requested({"XLBATCH_ONEFILE": value}) is True


def test_windows_icon_is_a_multi_size_ico(support):
    icon = Path(support.icon_path(ROOT))
    data = icon.read_bytes()
    reserved, kind, count = int.from_bytes(data[0:2], "little"), int.from_bytes(data[2:4], "little"), data[4]
    assert (reserved, kind) == (0, 1)  # an icon file, not a cursor
    sizes = {data[6 + 16 * i] or 256 for i in range(count)}  # width byte; 0 means 256
    assert {16, 32, 48, 256} <= sizes
