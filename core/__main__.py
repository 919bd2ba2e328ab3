"""`python -m xlbatch ...`: the command line without the desktop app."""

import multiprocessing
import sys

from xlbatch.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
