"""A compact record of what a table writer wrote, so that `xlbatch.verify` can read the file back and compare.

    OutputFolder.output()          ── want(tmp) ──►  registry
        XlsxTableWriter(tmp) / CsvTableWriter(tmp) ── start(tmp) ──► OutputRecord (only if wanted)
            every row written  ──►  record.add(row number, values python-calamine will read back)
        writer.close()         ──►  finish(tmp, record)
    after the atomic rename    ──►  take(tmp)  ──►  OutputFolder.records[final path]
    xlbatch.verify                ──►  record.chunks(sheet) compared with the file read back

Rows are kept in chunks of pickled, zlib-compressed lists (about two bytes per cell, less than the
output itself); past `MAX_RECORD_BYTES` only a 16-byte digest per chunk is kept, so
memory stays bounded for the biggest outputs (a difference is then named by its chunk of rows).
Rows rendered in a worker (combine's fragments, xlbatch.fragment_writer) come with their record packed
there (`pack`), numbered from their first row, with its digest (`check_of`); `add_packed` keeps both with
the row it starts at, and the check compares the digest first.
Writers only record for paths an OutputFolder asked for, so with verification off nothing is kept.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import threading
import zlib
from collections.abc import Iterator
from typing import Any

CHUNK_ROWS = 2000
MAX_RECORD_BYTES = 64 * 2**20  # per output; beyond it, digests only
XLSX, CSV = "xlsx", "csv"

Row = tuple[int, list[Any]]  # (0-based row number, the row's values without trailing empty cells)
Check = tuple[int, int, int, bytes]  # rows' count, first and last row numbers, digest (check_of)


def digest(rows: list[Row]) -> bytes:
    """A digest of rows that tells apart values of different types (1.0, True, '1') and every bit of a float.

    The rows are pickled without the memo, so equal values give equal bytes whatever objects hold them."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo: a repeated object is written out again, not referenced
    pickler.dump(rows)
    return hashlib.blake2b(buffer.getvalue(), digest_size=16).digest()


class OutputRecord:
    """What one output file holds: per sheet (one for a CSV file), its non-empty rows in order."""

    def __init__(self, kind: str, delimiter: str = ",", encoding: str = "utf-8-sig") -> None:
        self.kind = kind
        self.delimiter = delimiter
        self.encoding = encoding
        self.sheets: list[str] = []
        self._chunks: list[list[tuple[str, Any]]] = []  # per sheet: ("rows", compressed) or ("digest", ...)
        self._buffer: list[Row] = []
        self._size = 0
        # Per sheet (by index): its zip member and where the member may be cut for a check in spans,
        # as (offset in the member's compressed data, sheet row starting there); see xlbatch.verify_spans.
        self.cuts: dict[int, tuple[str, list[tuple[int, int]]]] = {}

    def start_sheet(self, title: str) -> None:
        self._flush()
        self.sheets.append(title)
        self._chunks.append([])

    def add(self, number: int, values: list[Any]) -> None:
        """Record one row (0-based row number); empty rows are not recorded (they read back as nothing)."""
        self._buffer.append((number, values))
        if len(self._buffer) >= CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        if not self._chunks:  # a CSV file: one sheet without a name
            self.sheets.append("")
            self._chunks.append([])
        rows, self._buffer = self._buffer, []
        if self._size > MAX_RECORD_BYTES:
            self._chunks[-1].append(("digest", (rows[0][0], rows[-1][0], len(rows), digest(rows))))
            return
        packed = zlib.compress(pickle.dumps(rows, pickle.HIGHEST_PROTOCOL), 1)
        self._size += len(packed)
        self._chunks[-1].append(("rows", packed))

    def add_packed(self, offset: int, packed: bytes, check: Check | None = None) -> None:
        """Record rows another process recorded (`pack()`), numbered from 0: here they start at row `offset`.

        They are kept as they came, so merging a worker's rows costs no unpacking; with their `check`
        (`check_of`, made there too) the output check compares a digest and unpacks them only if it differs."""
        self._flush()
        if not self._chunks:
            self.sheets.append("")
            self._chunks.append([])
        if self._size > MAX_RECORD_BYTES:
            rows = shifted(offset, packed)
            if rows:
                self._chunks[-1].append(("digest", (rows[0][0], rows[-1][0], len(rows), digest(rows))))
            return
        self._size += len(packed)
        self._chunks[-1].append(("shifted", (offset, packed, check)))

    def close(self) -> None:
        self._flush()

    @property
    def every_row(self) -> bool:
        """Whether the rows themselves were kept (not digests only, as past MAX_RECORD_BYTES)."""
        return all(kind != "digest" for chunks in self._chunks for kind, _payload in chunks)

    def chunks(self, sheet: int, checks: bool = False) -> Iterator[tuple[str, Any]]:
        """The sheet's chunks: ("rows", [Row, ...]) or ("digest", (first row, last row, count, digest)); with
        `checks`, rows that came with a check as ("checked", (offset, packed, check)), still packed."""
        for kind, payload in self._chunks[sheet]:
            if kind == "rows":
                yield kind, pickle.loads(zlib.decompress(payload))
            elif kind == "shifted":
                if checks and payload[2] is not None:
                    yield "checked", payload
                else:
                    yield "rows", shifted(payload[0], payload[1])
            else:
                yield kind, payload


def check_of(rows: list[Row]) -> Check | None:
    """What the output check needs to compare rows without unpacking them: (count, first row, last row,
    digest), numbered as given; None for no rows."""
    return (len(rows), rows[0][0], rows[-1][0], digest(rows)) if rows else None


def pack(rows: list[Row]) -> bytes:
    """Rows recorded in one process for `OutputRecord.add_packed` in another."""
    return zlib.compress(pickle.dumps(rows, pickle.HIGHEST_PROTOCOL), 1)


def unpack(packed: bytes) -> list[Row]:
    return pickle.loads(zlib.decompress(packed))


def shifted(offset: int, packed: bytes) -> list[Row]:
    """Packed rows numbered from `offset`."""
    rows = unpack(packed)
    return [(number + offset, values) for number, values in rows] if offset else rows


# --- which temporary paths want a record (see the module docstring) -------------------------------
_lock = threading.Lock()
_wanted: set[str] = set()
_done: dict[str, OutputRecord] = {}


def want(path: Any) -> None:
    with _lock:
        _wanted.add(str(path))


def start(path: Any, kind: str, delimiter: str = ",", encoding: str = "utf-8-sig") -> OutputRecord | None:
    """A new record if an OutputFolder wants one for `path`, else None (nothing to keep)."""
    with _lock:
        if str(path) not in _wanted:
            return None
    return OutputRecord(kind, delimiter, encoding)


def finish(path: Any, record: OutputRecord | None) -> None:
    if record is None:
        return
    record.close()
    with _lock:
        if str(path) in _wanted:
            _done[str(path)] = record


def take(path: Any) -> OutputRecord | None:
    """The finished record of `path` (None if no writer recorded it), forgetting the path."""
    with _lock:
        _wanted.discard(str(path))
        return _done.pop(str(path), None)
