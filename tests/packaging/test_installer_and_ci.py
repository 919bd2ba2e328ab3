"""The Inno Setup script, the Windows workflow and the CI build scripts, read as text.

Inno Setup does not run here; these check the decisions that make the installer per-user, clean to
remove and free of file associations, and that the workflow and scripts point at files that exist.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.conftest import ROOT

ISS = ROOT / "packaging" / "windows" / "xlbatch.iss"


def iss_sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in ISS.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(";") or line.startswith("#"):
            continue
        match = re.fullmatch(r"\[(\w+)\]", line)
        if match:
            current = match.group(1)
            sections.setdefault(current, [])
        else:
            sections.setdefault(current, []).append(line)
    return sections


def setup_directives() -> dict[str, str]:
    return dict(line.split("=", 1) for line in iss_sections()["Setup"])


def entries(section: str) -> list[dict[str, str]]:
    """An entry line ('Name: "x"; Filename: "y"; Flags: a b') as a dict."""
    result = []
    for line in iss_sections().get(section, []):
        fields = {}
        for part in re.findall(r'(\w+):\s*("[^"]*"|[^;]+)', line):
            fields[part[0]] = part[1].strip().strip('"')
        result.append(fields)
    return result


def iss_define(name: str) -> str:
    return re.search(rf'#define {name} "([^"]*)"', ISS.read_text(encoding="utf-8")).group(1)


def test_installs_per_user_without_administrator_rights():
    setup = setup_directives()
    assert setup["PrivilegesRequired"] == "lowest"
    assert "PrivilegesRequiredOverridesAllowed" not in setup  # never offers an all-users install
    assert setup["DefaultDirName"] == "{#InstallRoot}\\{#AppName}"
    assert iss_define("InstallRoot") in ("{autopf}", "{userpf}")  # unless a build passes another root
    assert re.fullmatch(r"\{\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", setup["AppId"])
    assert setup["ArchitecturesInstallIn64BitMode"] == "x64compatible"


def test_start_menu_shortcut_to_the_app():
    shortcuts = entries("Icons")
    start_menu = [s for s in shortcuts if s["Name"].startswith(("{autoprograms}", "{group}", "{userprograms}"))]
    assert start_menu and start_menu[0]["Filename"] == "{app}\\{#AppExe}"
    assert iss_define("AppExe") == "xlbatch.exe"


def test_no_file_associations():
    setup = setup_directives()
    assert setup.get("ChangesAssociations", "no") == "no"
    for entry in entries("Registry"):
        assert entry["Root"] in ("HKCU", "HKA")
        assert "classes" not in entry["Subkey"].lower()
        assert entry["Root"] != "HKCR"


def test_uninstall_removes_the_settings_the_app_saves():
    from xlbatch.gui.settings import APPLICATION, ORGANIZATION

    keys = {entry["Subkey"]: entry.get("Flags", "") for entry in entries("Registry")}
    assert "uninsdeletekey" in keys[f"Software\\{ORGANIZATION}\\{APPLICATION}"].split()
    assert "uninsdeletekeyifempty" in keys[f"Software\\{ORGANIZATION}"].split()


def test_installs_the_one_folder_build():
    dist = (ISS.parent / iss_define("DistDir").replace("\\", "/")).resolve()
    assert dist == (ROOT / "dist" / "xlbatch").resolve()  # where `pyinstaller build.spec` puts the folder
    files = entries("Files")
    assert files[0]["Source"] == "{#DistDir}\\*"
    assert set(files[0]["Flags"].split()) >= {"recursesubdirs", "createallsubdirs"}
    # An upgrade clears the previous bundle's libraries before copying the new ones.
    assert entries("InstallDelete")[0]["Name"] == "{app}\\_internal"
    icon = (ISS.parent / setup_directives()["SetupIconFile"].replace("\\", "/")).resolve()
    assert icon == (ROOT / "resources" / "icons" / "xlbatch.ico").resolve() and icon.is_file()


def test_windows_workflow_builds_checks_and_smoke_tests():
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "windows.yml").read_text(encoding="utf-8"))
    job = workflow["jobs"]["build"]
    assert job["runs-on"].startswith("windows")
    commands = "\n".join(step.get("run", "") for step in job["steps"])
    assert "PyInstaller --noconfirm --clean build.spec" in commands
    assert "packaging/ci/check_pe.py" in commands
    assert "packaging/ci/smoke.py" in commands and "xlbatch-cli.exe" in commands and "xlbatch.exe" in commands
    assert "packaging\\windows\\xlbatch.iss" in commands
    for path in re.findall(r"(packaging[/\\][\w/\\.-]+\.(?:py|iss))", commands):
        assert (ROOT / path.replace("\\", "/")).is_file(), path


@pytest.mark.parametrize("script", ["build-and-smoke-linux.sh", "build-and-smoke-windows.sh"])
def test_ci_scripts_are_valid_bash(script):
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    done = subprocess.run(["bash", "-n", str(ROOT / "packaging" / "ci" / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_every_wine_call_is_bounded_by_a_timeout():
    text = (ROOT / "packaging" / "ci" / "build-and-smoke-windows.sh").read_text(encoding="utf-8")
    calls = [
        line
        for line in text.splitlines()
        if re.search(r"(?<![\w/.-])wine(server)?\s|build-windows-exe\.sh\" |smoke\.py\" ", line)
        and not line.lstrip().startswith(("#", "echo", "[[", "step"))
    ]
    assert calls
    for line in calls:
        assert "timeout" in line, line
    smoke = (ROOT / "packaging" / "ci" / "smoke.py").read_text(encoding="utf-8")
    assert '["timeout", "-k", "10", limit, self.wine_run' in smoke
    assert Path(ROOT / "packaging" / "ci" / "check_pe.py").is_file()


def test_uninstall_removes_the_kept_file_list_and_keeps_the_settings_file():
    from xlbatch.gui.last_batch import STATE_FILE  # noqa: F401 - the state the app keeps for itself
    from xlbatch.gui.settings import APPLICATION, ORGANIZATION

    removed = [entry["Name"] for entry in entries("UninstallDelete")]
    # QStandardPaths' app data folder on Windows: %LOCALAPPDATA%\<organisation>\<application>.
    assert removed == [f"{{localappdata}}\\{ORGANIZATION}\\{APPLICATION}"]
    # The settings file lives one folder up (platformdirs' user config folder): never removed.
    assert not any(name.rstrip("\\").lower() == "{localappdata}\\xlbatch" for name in removed)


def test_the_windows_ci_script_builds_and_tests_the_installer():
    script = (ROOT / "packaging" / "ci" / "build-and-smoke-windows.sh").read_text(encoding="utf-8")
    assert 'timeout 2400 "$PY" "$ROOT/packaging/ci/check_installer.py"' in script
    assert "wine32:i386" in script  # ISCC.exe and the setup programs are 32-bit
    checker = (ROOT / "packaging" / "ci" / "check_installer.py").read_text(encoding="utf-8")
    for part in ("/VERYSILENT", "/CURRENTUSER", "innosetup", "unins000.exe", "CurrentVersion\\Uninstall"):
        assert part in checker, part
    # Under Wine the same per-user folder by another name: Wine 8 cannot expand {autopf}.
    assert 'WINE_INSTALL_ROOT = "/DInstallRoot={localappdata}\\\\Programs"' in checker
    assert "args.append(WINE_INSTALL_ROOT)" in checker
    app_id = setup_directives()["AppId"].replace("{{", "{")
    assert f'APP_ID = "{app_id}"' in checker  # the uninstaller's entry is named after the AppId
