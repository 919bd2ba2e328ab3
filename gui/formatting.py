"""Plain-words formatting for the window: sizes, durations, file types and the overall progress line.

No Qt here, so every rule is tested directly.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path

# What the Type column says for each extension; anything else shows the extension itself.
FILE_TYPES: dict[str, str] = {
    ".xlsx": "Excel workbook",
    ".xlsm": "Excel macro-enabled workbook",
    ".xltx": "Excel template",
    ".xltm": "Excel macro-enabled template",
    ".xls": "Excel 97-2003 workbook",
    ".xlsb": "Excel binary workbook",
    ".ods": "OpenDocument spreadsheet",
    ".csv": "CSV text file",
}


def file_type(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    return FILE_TYPES.get(suffix, f"{suffix[1:].upper()} file" if suffix else "File")


def format_size(size: int) -> str:
    """1536 -> '1.5 KB'; decimal units would disagree with Explorer, which counts in 1024s."""
    if size < 1024:
        return f"{size} bytes" if size != 1 else "1 byte"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if value >= 100 else f"{value:.1f} {unit}"
    return f"{value:.1f} TB"  # not reached


def format_duration(seconds: float) -> str:
    """0.42 -> '0.4 s', 75 -> '1 min 15 s', 3700 -> '1 h 01 min'."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_remaining(seconds: float) -> str:
    """A rounded estimate: nobody needs '43.7 s left' that changes every tenth of a second."""
    if seconds < 10:
        return "a few seconds"
    if seconds < 60:
        return f"{int(round(seconds / 5) * 5)} s"
    if seconds < 3600:
        return f"{int(round(seconds / 60))} min"
    hours, minutes = divmod(int(round(seconds / 60)), 60)
    return f"{hours} h {minutes:02d} min"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


class RateMeter:
    """Files per second over a sliding window, and the time left at that pace.

    A window (not the average since the start) so that a slow start, such as worker processes
    starting up, does not make the estimate wrong for the rest of the batch.
    """

    def __init__(self, window: float = 10.0, clock=time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self.started = clock()
        self._done: collections.deque[float] = collections.deque()

    def add(self, count: int = 1) -> None:
        now = self.clock()
        self._done.extend([now] * count)

    def rate(self) -> float:
        now = self.clock()
        while self._done and now - self._done[0] > self.window:
            self._done.popleft()
        span = min(self.window, now - self.started)
        if not self._done or span <= 0:
            return 0.0
        return len(self._done) / span


def progress_text(done: int, total: int, rate: float) -> str:
    """'37 of 120 files, 2.4 files/s, about 45 s left'."""
    head = f"{done:,} of {plural(total, 'file')}"
    if total and done >= total:
        return head
    if rate <= 0:
        return f"{head}, starting…" if done == 0 else head
    left = format_remaining((total - done) / rate)
    # "about 35 s left", but "a few seconds left": it is already an estimate.
    return f"{head}, {rate:.1f} files/s, {'' if left.startswith('a ') else 'about '}{left} left"
