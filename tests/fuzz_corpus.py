"""Damaged copies of real workbooks, made deterministically, for the fuzz tests.

A user's folder holds files that a broken download, a full disk, a crashed program or a bad USB stick
left behind. These generators imitate that damage on workbooks nobody here designed:

- `flip`: a few bytes of the file overwritten (bit rot, a bad sector);
- `truncate`: the file cut short (a download that stopped);
- `cut`, `garble`, `bloat`: the zip package rebuilt well-formed (valid CRCs, so zip readers do not
  notice) around one XML part that was cut short, had bytes scrambled, or was stuffed with absurd
  content (numbers thousands of digits long, cell references past Excel's limits, huge attributes);
- `ole_flip`: bytes overwritten inside the workbook stream of a legacy .xls, keeping the OLE2 container
  valid, so the damage reaches the BIFF parser itself.

Every mutant is named after its seed file and the mutation, and the same arguments always give the
same bytes (`random.Random(seed)`), so a failure found once is found again.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

# Mutations of a zip package's XML parts: each gets the part's bytes and a seeded generator.
XmlMutation = Callable[[bytes, random.Random], bytes]


def _cut(data: bytes, rng: random.Random) -> bytes:
    """The part ends in the middle: an unclosed element, as a write cut off by a crash leaves it."""
    return data[: rng.randint(len(data) // 4, max(len(data) // 4, len(data) - 2))]


def _garble(data: bytes, rng: random.Random) -> bytes:
    """A run of bytes replaced by noise somewhere past the XML declaration."""
    if len(data) < 64:
        return bytes(rng.randrange(256) for _ in range(len(data)))
    start = rng.randint(40, len(data) - 8)
    length = rng.randint(4, min(64, len(data) - start))
    return data[:start] + bytes(rng.randrange(256) for _ in range(length)) + data[start + length :]


_NUMBER_VALUE = re.compile(rb"<v>([^<]{1,40})</v>")
_CELL_REF = re.compile(rb'r="([A-Z]{1,3})(\d{1,7})"')
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"')


def _bloat(data: bytes, rng: random.Random) -> bytes:
    """Absurd content a damaged or malicious file can carry, in a part that is still well-formed XML."""
    choice = rng.randrange(4)
    if choice == 0 and _NUMBER_VALUE.search(data):
        # A cached value with thousands of digits (int() of it exceeds Python's digit limit).
        return _NUMBER_VALUE.sub(b"<v>" + b"9" * 6000 + b"</v>", data, count=1)
    if choice == 1 and _CELL_REF.search(data):
        # A cell reference past column XFD and row 1,048,576.
        matches = list(_CELL_REF.finditer(data))
        match = matches[rng.randrange(len(matches))]
        return data[: match.start()] + b'r="ZZZZ99999999"' + data[match.end() :]
    if choice == 2 and _DIMENSION.search(data):
        return _DIMENSION.sub(b'<dimension ref="A1:XFD1048576"', data, count=1)
    # A huge attribute on the root element.
    close = data.find(b">", data.find(b"<", data.find(b"?>") + 2 if b"?>" in data else 0))
    if close < 0:
        return data + b"x" * 200_000
    return data[:close] + b' xlbatch-fuzz="' + b"A" * 200_000 + b'"' + data[close:]


XML_MUTATIONS: dict[str, XmlMutation] = {"cut": _cut, "garble": _garble, "bloat": _bloat}


def _xml_members(archive: zipfile.ZipFile) -> list[str]:
    """The package's XML parts that readers parse, most interesting first."""
    names = [i.filename for i in archive.infolist() if i.filename.endswith((".xml", ".rels"))]
    rank = ("worksheets/", "sharedStrings", "workbook.xml", "styles", "content.xml", "[Content_Types]", "_rels")
    return sorted(names, key=lambda n: next((i for i, key in enumerate(rank) if key in n), len(rank)))


def _rezip(source: bytes, member: str, data: bytes) -> bytes:
    """The package with one member replaced, every member re-written with a correct CRC."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            content = data if info.filename == member else old.read(info.filename)
            new.writestr(info, content, compress_type=info.compress_type)
    return out.getvalue()


def flip_bytes(data: bytes, rng: random.Random, count: int = 6) -> bytes:
    buffer = bytearray(data)
    for _ in range(count):
        position = rng.randrange(len(buffer))
        buffer[position] ^= rng.randrange(1, 256)
    return bytes(buffer)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randint(1, max(1, len(data) - 1))]


def ole_flip(data: bytes, rng: random.Random, count: int = 8) -> bytes | None:
    """Overwrite bytes inside an .xls file's workbook stream; None if the file is not OLE2."""
    import olefile

    try:
        ole = olefile.OleFileIO(data)
    except OSError:
        return None
    with ole:
        streams = [e for e in ole.listdir() if e[-1].lower() in ("workbook", "book")]
        if not streams:
            return None
        stream = ole.openstream(streams[0]).read()
    mutated = bytearray(stream)
    for _ in range(count):
        position = rng.randrange(16, len(mutated)) if len(mutated) > 16 else 0
        mutated[position] ^= rng.randrange(1, 256)
    # olefile edits in place only through a file object opened for update.
    buffer = io.BytesIO(data)
    with olefile.OleFileIO(buffer, write_mode=True) as writer:
        writer.write_stream(streams[0], bytes(mutated))
    return buffer.getvalue()


def mutants(seed_file: Path, seed: int) -> Iterable[tuple[str, bytes]]:
    """(mutation name, bytes) for every mutation that applies to `seed_file`."""
    data = seed_file.read_bytes()
    rng = random.Random(f"{seed_file.name}:{seed}")
    yield "flip", flip_bytes(data, rng)
    yield "truncate", truncate(data, rng)
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = _xml_members(archive)
                contents = {name: archive.read(name) for name in members}
        except (zipfile.BadZipFile, OSError):  # a seed that is damaged already: byte-level damage only
            return
        for name, mutation in XML_MUTATIONS.items():
            # The first members are the sheets and shared strings; sometimes hit a later part too.
            member = members[0] if rng.random() < 0.6 or len(members) == 1 else rng.choice(members)
            yield name, _rezip(data, member, mutation(contents[member], rng))
    else:
        mutated = ole_flip(data, rng)
        if mutated is not None:
            yield "ole_flip", mutated


def write_mutants(seed_files: Iterable[Path], folder: Path, seeds: Iterable[int] = (0,)) -> list[Path]:
    """Write every mutant of every seed file into `folder`; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for seed in seeds:
        for seed_file in seed_files:
            for mutation, data in mutants(seed_file, seed):
                path = folder / f"{seed_file.stem}.{mutation}{seed}{seed_file.suffix}"
                path.write_bytes(data)
                written.append(path)
    return written
