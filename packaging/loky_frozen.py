"""joblib's loky worker processes inside the frozen programs: the `freeze_support()` loky does not have yet.

loky starts its helper processes by running `sys.executable` with a Python command line. In a program built
by PyInstaller sys.executable is the program itself (xlbatch.exe, xlbatch-cli), which does not understand
that command line and starts the app again instead (joblib/loky#236, joblib/joblib#1002). The open fix,
joblib/loky#625, adds a loky-level `freeze_support()` called first in the entry point, as
`multiprocessing.freeze_support()` is; this is the same idea, for the command lines loky 3.x builds:

  a worker on Linux/macOS   EXE -m joblib.externals.loky.backend.popen_loky_posix --process-name NAME --pipe FD
  the resource tracker      EXE [FLAGS] -c "from joblib.externals.loky.backend.resource_tracker import main;
                            main(FD, VERBOSE)"
  a worker on Windows       EXE --multiprocessing-fork HANDLE   (loky's frozen form, a bare handle;
                            multiprocessing's own gives key=value pairs, and PyInstaller's freeze_support
                            fails on a bare one with "not enough values to unpack", pyinstaller#7008).
                            The handle is the parent's and is not inherited, and loky's frozen command
                            line leaves out the parent's pid: the worker duplicates the handle from its
                            parent (os.getppid(): loky starts it directly), or from the grandparent in a
                            single-file program (there the program's bootloader stands in between).

PyInstaller >= 6.10 fixed the Windows handle inheritance that #625 no longer needs to patch
(pyinstaller#8634); the bare-handle form above is still left to this shim. Only these exact forms are run:
any other command line returns at once and the program starts as usual, so the shim never becomes a way to
run arbitrary code. Call `freeze_support()` first in each entry script, before
`multiprocessing.freeze_support()` (which would fail on loky's Windows form). It does nothing unless the
program is frozen.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

POSIX_WORKER = "joblib.externals.loky.backend.popen_loky_posix"
WINDOWS_WORKER = "joblib.externals.loky.backend.popen_loky_win32"
_TRACKER = re.compile(
    r"^from (joblib\.externals\.loky\.backend\.[a-z0-9_]*resource_tracker) import main; "
    r"main\((\d+)(?:, (True|False|\d+))?\)$"
)


def loky_command(argv: Sequence[str]) -> tuple[str, ...] | None:
    """What loky asked this process to be: ("posix-worker", *its arguments), ("tracker", module, fd[,
    verbose]), ("windows-worker", handle); None for any other command line."""
    args = list(argv[1:])
    if len(args) == 2 and args[0] == "--multiprocessing-fork" and args[1].isdigit():
        return ("windows-worker", args[1])
    while args and args[0].startswith("-") and args[0] not in ("-c", "-m"):
        args.pop(0)  # interpreter flags (-B, -S, -I, -E, -s, -O, -W..., -X...): one token each
    if len(args) >= 2 and args[0] == "-m" and args[1] == POSIX_WORKER:
        rest = args[2:]
        if "--pipe" in rest:
            return ("posix-worker", *rest)
    if len(args) >= 2 and args[0] == "-c":
        match = _TRACKER.match(args[1])
        if match:
            return ("tracker", match.group(1), match.group(2), *([match.group(3)] if match.group(3) else []))
    return None


def _parents() -> list[int]:
    """This process's parent and grandparent (the loky parent, or it through a single-file bootloader)."""
    import os

    parents = [os.getppid()]
    try:
        import psutil

        grandparent = psutil.Process(parents[0]).ppid()
        if grandparent:
            parents.append(grandparent)
    except Exception:  # noqa: BLE001 - psutil missing or the parent gone: the parent is all there is
        pass
    return parents


def freeze_support(argv: Sequence[str] | None = None) -> None:
    """In a frozen program started by loky as one of its helpers: be that helper, then exit."""
    if not getattr(sys, "frozen", False):
        return
    argv = list(sys.argv if argv is None else argv)
    command = loky_command(argv)
    if command is None:
        return
    kind = command[0]
    if kind == "posix-worker":
        import runpy

        # The module's own `__main__` block reads --pipe and --process-name and ends with sys.exit(). Not
        # alter_sys: __main__ must stay this entry script, which loky's child compares its parent's with.
        sys.argv = [argv[0], *command[1:]]
        runpy.run_module(POSIX_WORKER, run_name="__main__", alter_sys=False)
    elif kind == "tracker":
        import importlib

        module = importlib.import_module(command[1])
        verbose = [int(command[3] == "True" or (command[3].isdigit() and int(command[3])))] if command[3:] else []
        module.main(int(command[2]), *verbose)
    else:
        import importlib

        sys.argv = [argv[0], "--multiprocessing-fork", command[1]]
        worker = importlib.import_module(WINDOWS_WORKER)
        for parent in _parents():
            try:
                worker.main(int(command[1]), parent_pid=parent)  # ends with sys.exit()
            except OSError:  # the handle is not that process's: try the next one up
                continue
        sys.exit(1)
    sys.exit(0)
