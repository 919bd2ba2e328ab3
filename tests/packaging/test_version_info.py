"""The Windows version resource text: numbers and strings from the project's version."""

from __future__ import annotations

import pytest


class Recorder:
    """Stands in for PyInstaller's version-info classes: records what the text builds."""

    def __init__(self, kind: str):
        self.kind = kind

    def __call__(self, *args, **kwargs):
        return {"kind": self.kind, "args": args, "kwargs": kwargs}


def evaluate(text: str) -> dict:
    names = ["VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable", "StringStruct"]
    names += ["VarFileInfo", "VarStruct"]
    return eval(text, {"__builtins__": {}}, {name: Recorder(name) for name in names})


def strings_of(info: dict) -> dict[str, str]:
    string_file_info = next(kid for kid in info["kwargs"]["kids"] if kid["kind"] == "StringFileInfo")
    table = string_file_info["args"][0][0]
    assert table["args"][0] == "040904B0"  # U.S. English, Unicode
    return {s["args"][0]: s["args"][1] for s in table["args"][1]}


@pytest.mark.parametrize(
    ("version", "numbers"),
    [("0.1.0", (0, 1, 0, 0)), ("1.2.3.4", (1, 2, 3, 4)), ("2.0", (2, 0, 0, 0)), ("0.4.0rc1", (0, 4, 0, 0))],
)
def test_version_numbers(version_info, version, numbers):
    assert version_info.version_numbers(version) == numbers


def test_version_numbers_refuses_a_non_version(version_info):
    with pytest.raises(ValueError):
        version_info.version_numbers("latest")


def test_rendered_resource_carries_the_version_and_names(version_info):
    info = evaluate(version_info.render("1.2.3", "xlbatch-cli", "xlbatch command line"))
    fixed = info["kwargs"]["ffi"]["kwargs"]
    assert fixed["filevers"] == (1, 2, 3, 0)
    assert fixed["prodvers"] == (1, 2, 3, 0)
    assert fixed["fileType"] == 0x1  # an application
    strings = strings_of(info)
    assert strings["FileVersion"] == "1.2.3"
    assert strings["ProductVersion"] == "1.2.3"
    assert strings["OriginalFilename"] == "xlbatch-cli.exe"
    assert strings["InternalName"] == "xlbatch-cli"
    assert strings["FileDescription"] == "xlbatch command line"
    assert strings["ProductName"] == "xlbatch"


def test_quotes_in_a_description_stay_text(version_info):
    info = evaluate(version_info.render("1.0", "xlbatch", 'it\'s "quoted"'))
    assert strings_of(info)["FileDescription"] == 'it\'s "quoted"'


def test_written_file_loads_in_pyinstaller(version_info, tmp_path):
    versioninfo = pytest.importorskip("PyInstaller.utils.win32.versioninfo", exc_type=ImportError)
    path = version_info.write_version_file(tmp_path, "3.4.5", "xlbatch", "xlbatch app")
    loaded = versioninfo.load_version_info_from_text_file(path)
    assert (loaded.ffi.fileVersionMS, loaded.ffi.fileVersionLS) == ((3 << 16) | 4, 5 << 16)
