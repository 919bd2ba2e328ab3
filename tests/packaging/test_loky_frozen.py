"""packaging/loky_frozen.py: the command lines loky starts its helpers with are recognised (and nothing
else), and a program that behaves like a frozen one (sys.frozen set, sys.executable the program itself,
any other command line refused as the real CLI's argument parser would) really runs joblib on loky,
including a worker that dies. The frozen builds' smoke tests run the same on the real programs, the
Windows one under Wine."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.packaging.conftest import ROOT


def _shim():
    spec = importlib.util.spec_from_file_location("loky_frozen", ROOT / "packaging" / "loky_frozen.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SHIM = _shim()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["xlbatch-cli", "-m", SHIM.POSIX_WORKER, "--process-name", "LokyProcess-1", "--pipe", "7"],
            ("posix-worker", "--process-name", "LokyProcess-1", "--pipe", "7"),
        ),
        (
            ["xlbatch-cli", "-B", "-S", "-I", "-c",
             "from joblib.externals.loky.backend.resource_tracker import main; main(5, False)"],
            ("tracker", "joblib.externals.loky.backend.resource_tracker", "5", "False"),
        ),
        (
            ["x.exe", "-c", "from joblib.externals.loky.backend.stdlib_py314_resource_tracker import main; main(9)"],
            ("tracker", "joblib.externals.loky.backend.stdlib_py314_resource_tracker", "9"),
        ),
        (["xlbatch.exe", "--multiprocessing-fork", "1234"], ("windows-worker", "1234")),
        # anything else is the program's own business
        (["xlbatch-cli", "run", "summarize", "in"], None),
        (["xlbatch.exe", "--multiprocessing-fork", "parent_pid=1", "pipe_handle=2"], None),  # multiprocessing's
        (["xlbatch-cli", "-c", "import os; os.system('anything')"], None),
        (["xlbatch-cli", "-c", "from joblib.externals.loky.backend.resource_tracker import main; main(5); x()"], None),
        (["xlbatch-cli", "-m", "http.server"], None),
        (["xlbatch-cli", "-m", SHIM.POSIX_WORKER], None),  # no pipe: not loky
    ],
)  # fmt: skip
def test_only_lokys_own_command_lines_are_recognised(argv: list[str], expected: tuple[str, ...] | None) -> None:
    assert SHIM.loky_command(argv) == expected


def test_nothing_happens_unless_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    SHIM.freeze_support(["xlbatch-cli", "--multiprocessing-fork", "1234"])  # returns: not frozen


PROGRAM = '''
import os, sys
sys.frozen = True  # as in a PyInstaller program: loky then starts `sys.executable` with its arguments
sys.executable = {wrapper!r}
sys.path.insert(0, {packaging!r})
if {use_shim!r}:
    from loky_frozen import freeze_support
    freeze_support()
if sys.argv[1:] != ["go"]:
    raise SystemExit(f"xlbatch-cli: unknown command line {{sys.argv[1:]}}")  # what argparse would do

from joblib import Parallel, delayed
from joblib.externals.loky.process_executor import TerminatedWorkerError


def work(i):
    if i < 0:
        os._exit(3)  # a worker that dies
    return i * i, os.getpid()


if __name__ == "__main__":
    results = Parallel(n_jobs=2, backend="loky", timeout=60)(delayed(work)(i) for i in range(4))
    assert [r for r, _pid in results] == [0, 1, 4, 9], results
    assert os.getpid() not in {{pid for _r, pid in results}}
    try:
        Parallel(n_jobs=2, backend="loky", timeout=60)(delayed(work)(i) for i in (1, -1))
    except TerminatedWorkerError:
        print("worker death reported")
    again = Parallel(n_jobs=2, backend="loky", timeout=60)(delayed(work)(i) for i in range(3))
    assert [r for r, _pid in again] == [0, 1, 4]
    print("loky ran in the frozen-like program")
'''


def _run_program(tmp_path: Path, use_shim: bool) -> subprocess.CompletedProcess[str]:
    program = tmp_path / "program.py"
    wrapper = tmp_path / "xlbatch-cli"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{program}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    program.write_text(
        textwrap.dedent(
            PROGRAM.format(wrapper=str(wrapper), packaging=str(ROOT / "packaging"), use_shim=use_shim)
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSTARTUP"}
    return subprocess.run(
        [str(wrapper), "go"], capture_output=True, text=True, timeout=180, env=env, stdin=subprocess.DEVNULL
    )


@pytest.mark.skipif(sys.platform == "win32", reason="the POSIX command lines; Windows is the Wine smoke test's")
def test_loky_runs_in_a_frozen_like_program_and_survives_a_dead_worker(tmp_path: Path) -> None:
    done = _run_program(tmp_path, use_shim=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "worker death reported" in done.stdout
    assert "loky ran in the frozen-like program" in done.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="the POSIX command lines; Windows is the Wine smoke test's")
def test_without_the_shim_the_frozen_like_program_cannot_start_loky(tmp_path: Path) -> None:
    """The premise: what the shim fixes is really broken without it (loky's helper is refused)."""
    done = _run_program(tmp_path, use_shim=False)
    assert done.returncode != 0
    assert "unknown command line" in done.stdout + done.stderr
