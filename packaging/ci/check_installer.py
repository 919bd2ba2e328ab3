"""Build the Windows installer with Inno Setup's own compiler under Wine, then install, use and remove it.

    python packaging/ci/check_installer.py --dist DIST/xlbatch --out OUT --wine-run KIT/wine-run.sh

Steps, each bounded by a time limit (under Wine a failure usually looks like a hang):
  1. Inno Setup's compiler: ISCC.exe from the npm registry's `innosetup` package (`npm install` into
     OUT/innosetup, kept for the next run);
  2. compile packaging/windows/xlbatch.iss for the one-folder build in DIST with the version from
     pyproject.toml: OUT/xlbatch-<version>-setup.exe (the CI artifact; its size is printed);
  3. install it silently for the current user (/VERYSILENT /CURRENTUSER): the programs are in
     %LOCALAPPDATA%\\Programs\\xlbatch, the Start-menu shortcut exists, and so does the uninstaller's entry
     under HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall with the name, version and uninstaller;
  4. run the installed `xlbatch-cli.exe demo`: exit 0 and a summary.xlsx;
  5. give the user a settings file (where `xlbatch-cli.exe config path` says) and the app some state of
     its own (the window layout in HKCU\\Software\\xlbatch\\xlbatch, the kept file list), then uninstall
     silently: the program folder, the shortcut and the uninstaller's entry are gone, the app's own state
     with them, and the user's settings file is kept.
Exit status 0 when every step passed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP_ID = "{8BB07C3B-C7F4-467A-829A-85ADE98FB1F4}"  # packaging/windows/xlbatch.iss
UNINSTALL_KEY = rf"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\{APP_ID}_is1"
WINDOW_KEY = r"HKCU\Software\xlbatch\xlbatch"  # QSettings("xlbatch", "xlbatch")
INNO_PACKAGE = "innosetup@6"
# Wine 8 cannot expand {autopf} (FOLDERID_UserProgramFiles has no CSIDL, which its SHGetKnownFolderPath
# needs): the same folder, named through {localappdata} (packaging/windows/xlbatch.iss).
WINE_INSTALL_ROOT = "/DInstallRoot={localappdata}\\Programs"
USER_SETTINGS = "# the user's own settings: an uninstall keeps them\nverify: true\n"


class Step:
    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        print(f"[{'PASS' if ok else 'FAIL'}] {name}{': ' + detail if detail else ''}", flush=True)
        if not ok:
            self.failures.append(name)
        return ok


class Wine:
    """Runs Windows programs in the build kit's prefix."""

    def __init__(self, wine_run: str, display: str) -> None:
        self.wine_run = wine_run
        work = Path(os.environ.get("WORK", "/tmp/wine-build"))
        env = dict(os.environ, WINEPREFIX=str(work / "prefix"), WINEARCH="win64", WINEDEBUG="-all")
        self.env = dict(env, DISPLAY=display)

    def run(self, args: list[str], seconds: int, program: str = "wine") -> subprocess.CompletedProcess[str]:
        command = ["timeout", "-k", "10", str(seconds), program, *args]
        done = subprocess.run(
            command, env=self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
            timeout=seconds + 30, check=False,
        )  # fmt: skip
        return done

    def windows_path(self, path: Path) -> str:
        return "Z:" + str(path.resolve()).replace("/", "\\")

    def unix_path(self, windows: str) -> Path:
        done = self.run(["-u", windows.strip()], 60, program="winepath")
        return Path(done.stdout.strip())

    def folder(self, variable: str) -> Path:
        """A Windows folder variable (%LOCALAPPDATA%, %APPDATA%) of the prefix's user, as a Linux path."""
        done = self.run(["cmd", "/c", f"echo %{variable}%"], 60)
        return self.unix_path(done.stdout.strip().splitlines()[-1])

    def reg_query(self, key: str) -> str | None:
        """The values of a registry key as `reg query` prints them; None if the key does not exist."""
        done = self.run(["reg", "query", key], 60)
        return done.stdout if done.returncode == 0 else None

    def reg_add(self, key: str, name: str, value: str) -> None:
        self.run(["reg", "add", key, "/v", name, "/d", value, "/f"], 60)

    def wait(self) -> None:
        """Until the prefix's programs have ended (an uninstaller hands over to a copy of itself)."""
        self.run(["-w"], 120, program="wineserver")


@contextlib.contextmanager
def virtual_display() -> Iterator[str]:
    """An X display for the whole check (a private Xvfb unless DISPLAY is set).

    Setup and the uninstaller make their windows even when silent, and without a display Wine cannot
    ("Error reading FPreparingMemo.Lines.Strings: A call to an OS function failed"). One server for all
    steps: the uninstaller hands over to a copy of itself, which must find the display still there."""
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    read, write = os.pipe()
    command = ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"]
    server = subprocess.Popen(command, pass_fds=(write,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 30)
        number = os.read(read, 64).decode().strip() if ready else ""
        if not number:
            raise SystemExit("Xvfb did not start (apt-get install xvfb)")
        yield f":{number}"
    finally:
        os.close(read)
        server.terminate()
        server.wait(10)


def project_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def inno_compiler(out: Path) -> Path:
    """ISCC.exe from the npm registry's innosetup package, installed into OUT/innosetup once."""
    folder = out / "innosetup"
    iscc = folder / "node_modules" / "innosetup" / "bin" / "ISCC.exe"
    if not iscc.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed to fetch Inno Setup (apt-get install npm)")
        command = [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error", INNO_PACKAGE]
        subprocess.run(command, check=True, timeout=600, stdin=subprocess.DEVNULL)
    return iscc


def compile_installer(wine: Wine, step: Step, dist: Path, out: Path) -> Path | None:
    version = project_version()
    iscc = inno_compiler(out)
    started = time.monotonic()
    args = [str(iscc), "/Q", f"/DAppVersion={version}", f"/DDistDir={wine.windows_path(dist)}"]
    args.append(WINE_INSTALL_ROOT)
    args += [f"/O{wine.windows_path(out)}", wine.windows_path(ROOT / "packaging" / "windows" / "xlbatch.iss")]
    done = wine.run(args, 1500)
    setup = out / f"xlbatch-{version}-setup.exe"
    seconds = time.monotonic() - started
    ok = done.returncode == 0 and setup.is_file()
    size = f"{setup.stat().st_size / 2**20:.1f} MB" if setup.is_file() else "none"
    if not step.check("installer compiled with ISCC.exe", ok, f"{setup.name}, {size}, in {seconds:.0f} s"):
        print((done.stdout + done.stderr)[-3000:])
        return None
    return setup


def check_installed(wine: Wine, step: Step, setup: Path, work: Path) -> Path | None:
    log = work / "install.log"
    args = [str(setup), "/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART", "/CURRENTUSER"]
    args.append(f"/LOG={wine.windows_path(log)}")
    done = wine.run(args, 900)
    wine.wait()
    app = wine.folder("LOCALAPPDATA") / "Programs" / "xlbatch"
    programs = [app / "xlbatch.exe", app / "xlbatch-cli.exe", app / "unins000.exe"]
    if not step.check(
        "installed per user into %LOCALAPPDATA%\\Programs\\xlbatch",
        done.returncode == 0 and all(p.is_file() for p in programs),
        f"exit {done.returncode}; {[p.name for p in programs if p.is_file()]} in {app}",
    ):
        print(log.read_text(encoding="utf-8", errors="replace")[-3000:] if log.is_file() else done.stdout[-2000:])
        return None
    shortcut = wine.folder("APPDATA") / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "xlbatch.lnk"
    step.check("Start-menu shortcut", shortcut.is_file(), str(shortcut))
    entry = wine.reg_query(UNINSTALL_KEY) or ""
    wanted = ["DisplayName", "xlbatch", "DisplayVersion", project_version(), "UninstallString", "unins000.exe"]
    missing = [w for w in wanted if w not in entry]
    detail = f"{UNINSTALL_KEY}: missing {missing}" if missing else UNINSTALL_KEY
    step.check("uninstaller entry in the registry", not missing, detail)
    return app


def check_installed_cli(wine: Wine, step: Step, app: Path, work: Path) -> None:
    out = work / "installed-demo"
    done = wine.run([str(app / "xlbatch-cli.exe"), "demo", "--out", wine.windows_path(out)], 300, program=wine.wine_run)
    ok = done.returncode == 0 and (out / "summary.xlsx").is_file()
    if not step.check("installed xlbatch-cli.exe demo", ok, f"exit {done.returncode}, {out / 'summary.xlsx'}"):
        print((done.stdout + done.stderr)[-2000:])


def give_user_state(wine: Wine, app: Path) -> tuple[Path, Path]:
    """A settings file of the user's own, and state the app keeps for itself (window layout, file list)."""
    done = wine.run([str(app / "xlbatch-cli.exe"), "config", "path"], 120, program=wine.wine_run)
    settings = wine.unix_path(done.stdout.strip().splitlines()[-1])
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text(USER_SETTINGS, encoding="utf-8")
    wine.reg_add(WINDOW_KEY, "batch/task", "summarize")
    kept = wine.folder("LOCALAPPDATA") / "xlbatch" / "xlbatch" / "last-session.json"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text('{"version": 1, "files": [], "roots": [], "inputs": [], "batch": null}', encoding="utf-8")
    return settings, kept


def check_uninstalled(wine: Wine, step: Step, app: Path) -> None:
    settings, kept = give_user_state(wine, app)
    done = wine.run([str(app / "unins000.exe"), "/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART"], 600)
    deadline = time.monotonic() + 120
    while app.exists() and time.monotonic() < deadline:
        wine.wait()
        time.sleep(1)
    shortcut = wine.folder("APPDATA") / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "xlbatch.lnk"
    left = [str(p) for p in (app, shortcut, kept) if p.exists()]
    left += [key for key in (UNINSTALL_KEY, WINDOW_KEY) if wine.reg_query(key) is not None]
    gone = "uninstalled silently: program, shortcut, entry and the app's own state gone"
    step.check(gone, done.returncode == 0 and not left, f"exit {done.returncode}; left: {left}")
    kept_text = settings.read_text(encoding="utf-8") if settings.is_file() else None
    step.check("the user's settings file is kept", kept_text == USER_SETTINGS, str(settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, required=True, help="the one-folder build (xlbatch.exe inside)")
    parser.add_argument("--out", type=Path, required=True, help="where the installer and the test files go")
    parser.add_argument("--wine-run", required=True, help="the build kit's wine-run.sh")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = args.out / "installer-test"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    step = Step()
    started = time.monotonic()
    with virtual_display() as display:
        wine = Wine(args.wine_run, display)
        setup = compile_installer(wine, step, args.dist, args.out)
        app = check_installed(wine, step, setup, work) if setup is not None else None
        if app is not None:
            check_installed_cli(wine, step, app, work)
            check_uninstalled(wine, step, app)
    print(f"installer checks in {time.monotonic() - started:.0f} s; installer: {setup}")
    if step.failures:
        print("FAILED: " + ", ".join(step.failures))
    return 1 if step.failures or setup is None else 0


if __name__ == "__main__":
    sys.exit(main())
