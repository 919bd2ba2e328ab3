"""Write a copy of a zip package in which a few members have new content and every other member is
copied as it is stored: the same compressed bytes, CRC, name, dates, attributes and comment, in the same
order. Nothing that is not replaced is decompressed, so media, VBA projects and printer settings cannot
change, and the copy costs little more than reading the input.

New member contents are compressed once, as they are produced, into a temporary file (`NewMember`),
then copied in at their member's place. The writer is a plain zip (no ZIP64): preflight refuses inputs
over 3 GB, and an edited copy that would need ZIP64 is refused with kind `too_large`.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from xlbatch import errors
from xlbatch.errors import TaskFailure

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06"
_DATA_DESCRIPTOR = 0x08
_UTF8_NAME = 0x800
_ZIP64_EXTRA = 0x0001
_LIMIT = 0xFFFFFFFF
_COPY_CHUNK = 1 << 20
# New content stays in memory up to this size (compressed); a bigger part goes to a temporary file.
SPOOL_BYTES = 2 << 20


class NewMember:
    """New content for one member, deflated into a temporary file as it is written."""

    def __init__(self) -> None:
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - see close()
        self._compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.crc = 0
        self.size = 0
        self.compressed_size = 0
        self._finished = False

    def write(self, data: bytes) -> None:
        if data:
            self.crc = zlib.crc32(data, self.crc)
            self.size += len(data)
            self._file.write(self._compressor.compress(data))

    def finish(self) -> NewMember:
        if not self._finished:
            self._file.write(self._compressor.flush())
            self.compressed_size = self._file.tell()
            self._finished = True
        return self

    def copy_to(self, out: IO[bytes]) -> None:
        self._file.seek(0)
        shutil.copyfileobj(self._file, out, _COPY_CHUNK)

    def close(self) -> None:
        self._file.close()


def write_package(
    source: str | Path, target: str | Path, replaced: dict[str, NewMember], check: Callable[[], None] | None = None
) -> None:
    """Write `target`: the members of `source` in order, `replaced` ones with their new content."""
    entries: list[bytes] = []
    with zipfile.ZipFile(source) as archive, open(source, "rb") as raw, open(target, "wb") as out:
        infos = archive.infolist()
        if len(infos) > 0xFFFF:
            _too_large(f"{len(infos)} members")
        for info in infos:
            if check is not None:
                check()
            offset = out.tell()
            name, local_extra = _read_local_header(info, raw)
            new = replaced.get(info.filename)
            if new is None:
                header = _Header(
                    info.flag_bits & ~_DATA_DESCRIPTOR,
                    info.compress_type,
                    info.CRC,
                    info.compress_size,
                    info.file_size,
                    name,
                    info.extract_version,
                )
                _write_local(info, header, local_extra, out)
                _copy_stored_data(info, raw, out)
            else:
                new.finish()
                # No data descriptor, no encryption, normal compression; the name keeps its encoding.
                header = _Header(
                    info.flag_bits & _UTF8_NAME,
                    zipfile.ZIP_DEFLATED,
                    new.crc,
                    new.compressed_size,
                    new.size,
                    name,
                    max(info.extract_version, 20),
                )
                _write_local(info, header, local_extra, out)
                new.copy_to(out)
            entries.append(_central_entry(info, header, offset))
        directory_start = out.tell()
        for entry in entries:
            out.write(entry)
        directory_size = out.tell() - directory_start
        if directory_start > _LIMIT or directory_size > _LIMIT:
            _too_large(f"central directory at {directory_start}")
        comment = archive.comment
        out.write(_END.pack(_END_SIG, 0, 0, len(entries), len(entries), directory_size, directory_start, len(comment)))
        out.write(comment)


@dataclass(frozen=True)
class _Header:
    """The fields a member's local header got, which its central directory entry repeats."""

    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    name: bytes
    version: int


def _read_local_header(info: zipfile.ZipInfo, raw: IO[bytes]) -> tuple[bytes, bytes]:
    """The member's name and extra field as its local header stores them; leaves `raw` at its data."""
    raw.seek(info.header_offset)
    fixed = raw.read(_LOCAL.size)
    if len(fixed) != _LOCAL.size or fixed[:4] != _LOCAL_SIG:
        raise zipfile.BadZipFile(f"no local header for {info.filename}")
    name_length, extra_length = struct.unpack("<2H", fixed[26:30])
    name = raw.read(name_length)
    return name, _strip_zip64(raw.read(extra_length))


def _copy_stored_data(info: zipfile.ZipInfo, raw: IO[bytes], out: IO[bytes]) -> None:
    remaining = info.compress_size
    while remaining:
        block = raw.read(min(remaining, _COPY_CHUNK))
        if not block:
            raise zipfile.BadZipFile(f"{info.filename} is truncated")
        out.write(block)
        remaining -= len(block)


def _write_local(info: zipfile.ZipInfo, header: _Header, extra: bytes, out: IO[bytes]) -> None:
    if max(header.compressed, header.size, out.tell()) > _LIMIT:
        _too_large(f"{info.filename}: {header.size} bytes")
    dos_time, dos_date = _dos_time(info.date_time)
    out.write(
        _LOCAL.pack(
            _LOCAL_SIG,
            header.version,
            header.flags,
            header.method,
            dos_time,
            dos_date,
            header.crc,
            header.compressed,
            header.size,
            len(header.name),
            len(extra),
        )
    )
    out.write(header.name)
    out.write(extra)


def _central_entry(info: zipfile.ZipInfo, header: _Header, offset: int) -> bytes:
    dos_time, dos_date = _dos_time(info.date_time)
    extra = _strip_zip64(info.extra)
    fixed = _CENTRAL.pack(
        _CENTRAL_SIG,
        (info.create_system << 8) | info.create_version,
        header.version,
        header.flags,
        header.method,
        dos_time,
        dos_date,
        header.crc,
        header.compressed,
        header.size,
        len(header.name),
        len(extra),
        len(info.comment),
        0,
        info.internal_attr,
        info.external_attr,
        offset,
    )
    return fixed + header.name + extra + info.comment


def _strip_zip64(extra: bytes) -> bytes:
    """Extra fields without the ZIP64 record (sizes here always fit the plain fields)."""
    kept: list[bytes] = []
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack("<2H", extra[at : at + 4])
        if kind != _ZIP64_EXTRA:
            kept.append(extra[at : at + 4 + length])
        at += 4 + length
    return b"".join(kept)


def _dos_time(date_time: tuple[int, int, int, int, int, int]) -> tuple[int, int]:
    year, month, day, hour, minute, second = date_time
    return (hour << 11) | (minute << 5) | (second // 2), ((year - 1980) << 9) | (month << 5) | day


def _too_large(detail: str) -> None:
    raise TaskFailure(
        errors.TOO_LARGE,
        "The edited copy would be larger than a plain zip package allows (4 GB); it was not written.",
        detail,
    )
