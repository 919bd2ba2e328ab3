"""What build.spec puts in the executables, as plain data and functions that need no PyInstaller.

build.spec loads this file by path (the folder is named `packaging`, like the PyPI library PyInstaller
itself imports, so it is never imported as a package) and tests/packaging checks it without building:
the version comes from pyproject.toml, the sources are staged as the one package `xlbatch`, every module
of the engine is listed (tasks are imported by name at run time, which PyInstaller cannot see),
`resources/` is bundled without its generator script, and the heavy or unused packages and Qt modules
are left out.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

APP_NAME = "xlbatch"
GUI_NAME = "xlbatch"  # the windowed app: xlbatch.exe
CLI_NAME = "xlbatch-cli"  # the console program for scripts and scheduled jobs: xlbatch-cli.exe
DIST_FOLDER = "xlbatch"  # the onedir folder holding both programs

# Files under resources/ that are for developers only.
RESOURCE_EXCLUDES = ("__init__.py", "samples/make_samples.py")

# Not needed at run time. pandas and numpy are bundled: the `python` task builds DataFrames for the
# user's own function, and the Python API's report speaks pandas (both import it only when used, so the
# other tasks and the app's start-up never load it). joblib and distributed (the joblib and dask
# backends) are bundled. The rest are test, notebook or GUI-toolkit packages that an analysis can reach
# through optional imports (a user's script in the executable can import the standard library, pandas,
# numpy and the project's own dependencies).
PACKAGE_EXCLUDES = (
    "scipy",
    "matplotlib",
    "PIL",
    "lxml",
    "tkinter",
    "_tkinter",
    "IPython",
    "jedi",
    "pytest",
    "_pytest",
    "pytestqt",
    "xlwt",
    "odf",
    "msoffcrypto",
    "cryptography",
    "setuptools",
    # pandas' optional dependencies (cloud storage, SQL, HDF5, Arrow, fast evaluation): installed here
    # for other tools, reached by pandas only when a script asks for them (dask and distributed, which
    # the dask backend needs, are bundled with their own dependencies).
    "botocore",
    "boto3",
    "s3fs",
    "pyarrow",
    "sqlalchemy",
    "tables",
    "numexpr",
    "bottleneck",
    "pkg_resources",
    "pydoc_data",
    "lib2to3",
    "unittest",
)

# The app uses QtCore, QtGui and QtWidgets only.
QT_MODULE_EXCLUDES = tuple(
    f"PySide6.{name}"
    for name in (
        "Qt3DAnimation",
        "Qt3DCore",
        "Qt3DExtras",
        "Qt3DInput",
        "Qt3DLogic",
        "Qt3DRender",
        "QtBluetooth",
        "QtCharts",
        "QtConcurrent",
        "QtDataVisualization",
        "QtDBus",
        "QtDesigner",
        "QtGraphs",
        "QtHelp",
        "QtHttpServer",
        "QtLocation",
        "QtMultimedia",
        "QtMultimediaWidgets",
        "QtNetwork",
        "QtNetworkAuth",
        "QtNfc",
        "QtOpenGL",
        "QtOpenGLWidgets",
        "QtPdf",
        "QtPdfWidgets",
        "QtPositioning",
        "QtPrintSupport",
        "QtQml",
        "QtQuick",
        "QtQuick3D",
        "QtQuickControls2",
        "QtQuickWidgets",
        "QtRemoteObjects",
        "QtScxml",
        "QtSensors",
        "QtSerialBus",
        "QtSerialPort",
        "QtSpatialAudio",
        "QtSql",
        "QtStateMachine",
        "QtSvg",
        "QtSvgWidgets",
        "QtTest",
        "QtTextToSpeech",
        "QtUiTools",
        "QtWebChannel",
        "QtWebEngineCore",
        "QtWebEngineQuick",
        "QtWebEngineWidgets",
        "QtWebSockets",
        "QtWebView",
        "QtXml",
    )
)

EXCLUDES = PACKAGE_EXCLUDES + QT_MODULE_EXCLUDES

# Qt files the hooks collect with QtGui that this app never loads, matched against the bundled file
# name (any folder). Image formats: Qt reads PNG itself and the app ships an .ico; the others pull in
# more Qt libraries (the PDF and SVG plugins need Qt6Pdf and Qt6Svg). opengl32sw.dll is a 20 MB software
# OpenGL for Qt Quick; widgets paint without OpenGL. Translations: the app is in English.
QT_FILE_EXCLUDES = re.compile(
    r"""(
        /imageformats/(?!q(ico|png)\b)[^/]+$       # every image format plugin but ico (png is built in)
      | /(iconengines|tls|networkinformation|generic|platforminputcontexts|qmltooling)/[^/]+$
      | /translations/[^/]+\.qm$
      | (^|/)opengl32sw\.dll$
      | (^|/)(lib)?Qt6(Pdf|Svg|Network|Qml|QmlModels|QmlMeta|QmlWorkerScript|Quick|OpenGL|VirtualKeyboard)\b[^/]*$
    )""",
    re.VERBOSE | re.IGNORECASE,
)


def project_version(root: Path = ROOT) -> str:
    """The version in pyproject.toml: the one number shown in the app, the CLI and the .exe properties."""
    with open(root / "pyproject.toml", "rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


# The import package `xlbatch` is spread over three folders of the source tree (pyproject.toml's
# package-dir): the engine in core/, the app in gui/, the bundled files in resources/.
PACKAGE_FOLDERS = {"xlbatch": "core", "xlbatch/gui": "gui", "xlbatch/resources": "resources"}


def core_modules(root: Path = ROOT) -> list[str]:
    """Every module of the engine (`xlbatch`, the core/ folder), found from the files: hidden imports.

    `xlbatch.tasks` imports its task modules by name (importlib) and the executors import their backends
    inside functions; listing all of them keeps a task or backend from going missing in the executable.
    """
    modules = []
    base = root / "core"
    for path in sorted(base.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        parts = ["xlbatch", *path.relative_to(base).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules.append(".".join(parts))
    return modules


# Modules loky starts its helpers from by name (packaging/loky_frozen.py runs them in the frozen programs),
# and the shim itself, which sits beside the entry scripts.
LOKY_MODULES = [
    "loky_frozen",
    "joblib.externals.loky.backend.popen_loky_posix",
    "joblib.externals.loky.backend.popen_loky_win32",
    "joblib.externals.loky.backend.resource_tracker",
]


def rich_modules() -> list[str]:
    """rich's character-width tables (rich._unicode_data.unicode15-0-0, ...): rich >= 14.3 imports the one
    for the terminal's Unicode version by name, which PyInstaller cannot see, and not every build machine
    has the hooks-contrib release that lists them. Found from the installed files; [] for an older rich."""
    import importlib.util

    spec = importlib.util.find_spec("rich._unicode_data")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(next(iter(spec.submodule_search_locations)))
    tables = sorted(f"rich._unicode_data.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__")
    return ["rich._unicode_data", *tables]


def stage_package(root: Path, build_dir: Path) -> Path:
    """Copy the sources into `build_dir/src/xlbatch/...` as the one package they install as, and return
    the folder to analyse from. PyInstaller cannot follow an editable install (setuptools maps the
    package with an import hook, pyinstaller/pyinstaller#7524), and staging from this tree means the
    executable holds exactly these sources whether or not (and however) the project is installed."""
    staged = build_dir / "src"
    shutil.rmtree(staged, ignore_errors=True)
    for target, folder in PACKAGE_FOLDERS.items():
        destination = staged / target
        shutil.copytree(
            root / folder,
            destination,
            dirs_exist_ok=True,
            # Contents only: copy2's CopyFile2 (Python 3.12+ on Windows) is missing from Wine 8, where the
            # Windows programs are built in CI, and a source's timestamps do not matter.
            copy_function=shutil.copyfile,
            # Sub-packages mapped from other folders are copied on their own; data stays in resources/.
            ignore=lambda here, names, top=root / folder: [
                n for n in names if n == "__pycache__" or n.endswith(".pyc") or (Path(here) == top and n == "samples")
            ],
        )
    return staged


def resource_datas(root: Path = ROOT) -> list[tuple[str, str]]:
    """(source file, folder in the bundle) for every bundled resource: `resources/...` inside the bundle,
    where xlbatch.bundle looks for them below sys._MEIPASS."""
    base = root / "resources"
    datas = []
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base).as_posix()
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc" or rel in RESOURCE_EXCLUDES:
            continue
        datas.append((str(path), str(Path("resources", rel).parent)))
    return datas


def keep_file(dest_name: str) -> bool:
    """False for the Qt files listed in QT_FILE_EXCLUDES (dest_name: the path inside the bundle)."""
    return not QT_FILE_EXCLUDES.search("/" + dest_name.replace("\\", "/"))


def onefile_requested(environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """XLBATCH_ONEFILE=1 builds two single-file programs instead of one folder holding both."""
    value = (environ if environ is not None else os.environ).get("XLBATCH_ONEFILE", "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def icon_path(root: Path = ROOT) -> str | None:
    """The Windows program icon (every size in one .ico), drawn by packaging/make_icon.py."""
    icon = root / "resources" / "icons" / "xlbatch.ico"
    return str(icon) if icon.is_file() else None
