"""build.spec, executed with stand-ins for PyInstaller's build classes: what it asks PyInstaller to build.

The real build runs in packaging/ci/build-and-smoke-*.sh; this checks the spec's decisions in a second:
one analysis of both entry scripts, a windowed `xlbatch` and a console `xlbatch-cli` in one folder
(or two single files with XLBATCH_ONEFILE=1), the icon and version resource on Windows, every core
module as a hidden import, the resources as data, the exclusions.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import xlbatch.tasks
from tests.packaging.conftest import ROOT


class Recorded:
    """Base of the stand-ins: keeps the arguments it was built with."""

    instances: list[Recorded]

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        type(self).instances.append(self)


class Analysis(Recorded):
    instances = []

    def __init__(self, scripts, **kwargs):
        super().__init__(scripts, **kwargs)
        # What PyInstaller's Analysis offers: the bootstrap and runtime hooks, then the scripts by name.
        self.scripts = [
            ("pyiboot01_bootstrap", "bootstrap.py", "PYSOURCE"),
            ("pyi_rth_multiprocessing", "rth.py", "PYSOURCE"),
        ]
        self.scripts += [(Path(s).stem, s, "PYSOURCE") for s in scripts]
        self.pure = [("xlbatch", "xlbatch/__init__.py", "PYMODULE")]
        self.binaries = [
            ("PySide6/Qt6Widgets.dll", "x", "BINARY"),
            ("PySide6/opengl32sw.dll", "x", "BINARY"),
            ("PySide6/plugins/imageformats/qpdf.dll", "x", "BINARY"),
            ("PySide6/plugins/imageformats/qico.dll", "x", "BINARY"),
        ]
        self.datas = [(dest + "/" + Path(src).name, src, "DATA") for src, dest in kwargs["datas"]]
        self.datas += [("PySide6/translations/qtbase_fr.qm", "x", "DATA")]


class PYZ(Recorded):
    instances = []


class EXE(Recorded):
    instances = []


class COLLECT(Recorded):
    instances = []


def run_spec(monkeypatch, tmp_path, platform: str, onefile: bool) -> dict:
    for cls in (Analysis, PYZ, EXE, COLLECT):
        cls.instances = []
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.copy_metadata = lambda name: [(f"/site-packages/{name}-1.0.dist-info", f"{name}-1.0.dist-info")]
    package = types.ModuleType("PyInstaller")
    utils = types.ModuleType("PyInstaller.utils")
    package.utils, utils.hooks = utils, hooks
    monkeypatch.setitem(sys.modules, "PyInstaller", package)
    monkeypatch.setitem(sys.modules, "PyInstaller.utils", utils)
    monkeypatch.setitem(sys.modules, "PyInstaller.utils.hooks", hooks)
    monkeypatch.setenv("XLBATCH_ONEFILE", "1" if onefile else "0")
    namespace = {
        "__name__": "__main__",
        "SPECPATH": str(ROOT),
        "workpath": str(tmp_path / "work"),
        "Analysis": Analysis,
        "PYZ": PYZ,
        "EXE": EXE,
        "COLLECT": COLLECT,
    }
    source = (ROOT / "build.spec").read_text(encoding="utf-8")
    real_platform = sys.platform
    monkeypatch.setattr(sys, "platform", platform)  # only while the spec runs
    try:
        exec(compile(source, str(ROOT / "build.spec"), "exec"), namespace)
    finally:
        monkeypatch.setattr(sys, "platform", real_platform)
    return namespace


def programs() -> dict[str, EXE]:
    return {exe.kwargs["name"]: exe for exe in EXE.instances}


def script_names(exe: EXE) -> list[str]:
    return [entry[0] for entry in exe.args[1]]


@pytest.mark.parametrize("platform", ["win32", "linux"])
def test_one_folder_holds_the_windowed_app_and_the_console_cli(monkeypatch, tmp_path, platform):
    run_spec(monkeypatch, tmp_path, platform, onefile=False)
    assert len(Analysis.instances) == 1
    scripts = [Path(s).name for s in Analysis.instances[0].args[0]]
    assert scripts == ["entry_gui.py", "entry_cli.py"]
    exes = programs()
    assert set(exes) == {"xlbatch", "xlbatch-cli"}
    assert exes["xlbatch"].kwargs["console"] is False
    assert exes["xlbatch-cli"].kwargs["console"] is True
    # Each program runs the bootstrap, the runtime hooks and its own entry script only.
    assert script_names(exes["xlbatch"]) == ["pyiboot01_bootstrap", "pyi_rth_multiprocessing", "entry_gui"]
    assert script_names(exes["xlbatch-cli"]) == ["pyiboot01_bootstrap", "pyi_rth_multiprocessing", "entry_cli"]
    for exe in exes.values():
        assert exe.kwargs["exclude_binaries"] is True
        assert exe.kwargs["upx"] is False
    assert len(COLLECT.instances) == 1
    collect = COLLECT.instances[0]
    assert collect.kwargs["name"] == "xlbatch"
    assert exes["xlbatch"] in collect.args and exes["xlbatch-cli"] in collect.args


def test_windows_programs_get_the_icon_and_the_project_version(monkeypatch, tmp_path, support):
    run_spec(monkeypatch, tmp_path, "win32", onefile=False)
    version = support.project_version(ROOT)
    for name, exe in programs().items():
        assert Path(exe.kwargs["icon"]) == ROOT / "resources" / "icons" / "xlbatch.ico"
        text = Path(exe.kwargs["version"]).read_text(encoding="utf-8")
        assert f"StringStruct('FileVersion', '{version}')" in text
        assert f"StringStruct('OriginalFilename', '{name}.exe')" in text
        assert Path(exe.kwargs["version"]).parent == tmp_path / "work"  # written in the build folder


def test_linux_programs_get_no_windows_resources(monkeypatch, tmp_path):
    run_spec(monkeypatch, tmp_path, "linux", onefile=False)
    for exe in programs().values():
        assert exe.kwargs["icon"] is None
        assert exe.kwargs["version"] is None


def test_onefile_builds_two_self_contained_programs(monkeypatch, tmp_path):
    run_spec(monkeypatch, tmp_path, "win32", onefile=True)
    assert COLLECT.instances == []
    analysis = Analysis.instances[0]
    for exe in programs().values():
        assert "exclude_binaries" not in exe.kwargs
        assert exe.args[2] is analysis.binaries and exe.args[3] is analysis.datas


def test_analysis_inputs(monkeypatch, tmp_path, support):
    run_spec(monkeypatch, tmp_path, "win32", onefile=False)
    analysis = Analysis.instances[0]
    kwargs = analysis.kwargs
    # The sources of this tree staged as the package they install as, not an installed copy.
    assert kwargs["pathex"] == [str(tmp_path / "work" / "src"), str(ROOT / "packaging")]  # + loky_frozen.py
    assert (tmp_path / "work" / "src" / "xlbatch" / "gui" / "entry.py").is_file()
    hidden = set(kwargs["hiddenimports"])
    assert {f"xlbatch.tasks.{m}" for m in xlbatch.tasks.BUILTIN_MODULES} <= hidden
    assert {"defusedxml", "defusedxml.ElementTree"} <= hidden
    assert {"loky_frozen", "joblib.externals.loky.backend.popen_loky_posix"} <= hidden
    assert set(support.EXCLUDES) <= set(kwargs["excludes"])
    datas = {dest for src, dest in kwargs["datas"]}
    assert "resources/samples" in {d.replace("\\", "/") for d in datas}
    assert "xlbatch-1.0.dist-info" in datas  # the package metadata: where the app reads its version
    # The spec dropped the Qt files the app never loads.
    assert [b[0] for b in analysis.binaries] == ["PySide6/Qt6Widgets.dll", "PySide6/plugins/imageformats/qico.dll"]
    assert not any(d[0].endswith(".qm") for d in analysis.datas)
