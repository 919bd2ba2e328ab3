"""Entry script of the frozen console program `xlbatch-cli` (xlbatch-cli.exe): `run`, `tasks`, `demo`.

For scripts and scheduled jobs; the same commands as the installed `xlbatch` command.

`freeze_support()` comes first: a worker process of the pool is this same executable started again
with multiprocessing's arguments, and freeze_support runs the worker and exits there, before anything
else is imported (no Qt, no second command line, no launch loop). loky's helpers (the joblib backend)
are started the same way with their own command lines: packaging/loky_frozen.py runs those first.
"""

import multiprocessing

from loky_frozen import freeze_support as loky_freeze_support

loky_freeze_support()  # joblib's loky helpers: before multiprocessing's, which rejects loky's Windows form
multiprocessing.freeze_support()

import sys  # noqa: E402

from xlbatch.gui.entry import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
