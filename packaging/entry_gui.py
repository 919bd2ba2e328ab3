"""Entry script of the frozen desktop app `xlbatch` (xlbatch.exe, a windowed program: no console).

Arguments are those of `xlbatch gui`: files or folders to load (what Explorer passes when files are
dropped on the program), `--recipe FILE [--start [--exit-when-done]]` (a desktop shortcut to a saved
batch) and `--screenshot FILE` (render the window to a PNG and exit).

`freeze_support()` comes first: every worker process of a batch is this same executable started again
with multiprocessing's arguments, and freeze_support runs the worker and exits there, before Qt or the
window is touched (no second window, no launch loop). loky's helpers (the joblib backend) are started the
same way with their own command lines: packaging/loky_frozen.py runs those first.

A windowed program on Windows has no console: `sys.stdout` and `sys.stderr` are None, and anything that
writes to them (argparse's usage message, `--version`, a warning) would raise. They are pointed at the
null device instead.
"""

import multiprocessing

from loky_frozen import freeze_support as loky_freeze_support

loky_freeze_support()  # joblib's loky helpers: before multiprocessing's, which rejects loky's Windows form
multiprocessing.freeze_support()

import os  # noqa: E402
import sys  # noqa: E402

if sys.stdout is None or sys.stderr is None:
    _null = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as the program
    sys.stdout = sys.stdout or _null
    sys.stderr = sys.stderr or _null

from xlbatch.gui.entry import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["gui", *sys.argv[1:]]))
