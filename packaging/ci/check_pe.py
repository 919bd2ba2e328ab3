"""Checks the Windows executables' headers and resources: what a user sees before the program runs.

    python packaging/ci/check_pe.py DIST_FOLDER        (the folder holding xlbatch.exe and xlbatch-cli.exe)

- xlbatch.exe is a windowed program (subsystem WINDOWS_GUI: no console window opens with it), and
  xlbatch-cli.exe a console program (WINDOWS_CUI), so scheduled jobs and scripts get its output;
- both carry the app icon (an icon group with every size of resources/icons/xlbatch.ico);
- both carry a version resource whose FileVersion and ProductVersion are the version in pyproject.toml
  and whose OriginalFilename is the file's own name.
Needs pefile (PyInstaller's own dependency on Windows). Exit status 0 when every check passed.
"""

from __future__ import annotations

import struct
import sys
import tomllib
from pathlib import Path

import pefile

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {"xlbatch.exe": "WINDOWS_GUI", "xlbatch-cli.exe": "WINDOWS_CUI"}


def ico_sizes(path: Path) -> int:
    """How many images the .ico holds (its header: reserved, type 1, count)."""
    _reserved, kind, count = struct.unpack("<HHH", path.read_bytes()[:6])
    return count if kind == 1 else 0


def version_strings(pe: pefile.PE) -> dict[str, str]:
    strings: dict[str, str] = {}
    for info in getattr(pe, "FileInfo", None) or []:
        for entry in info:
            for table in getattr(entry, "StringTable", []) or []:
                for key, value in table.entries.items():
                    strings[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    return strings


def icon_group_count(pe: pefile.PE) -> int:
    """Images listed in the first RT_GROUP_ICON resource (0 if there is none)."""
    directory = getattr(pe, "DIRECTORY_ENTRY_RESOURCE", None)
    for kind in directory.entries if directory is not None else []:
        if kind.id != pefile.RESOURCE_TYPE["RT_GROUP_ICON"]:
            continue
        for name in kind.directory.entries:
            for language in name.directory.entries:
                data = pe.get_data(language.data.struct.OffsetToData, language.data.struct.Size)
                return struct.unpack("<HHH", data[:6])[2]
    return 0


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else "dist/xlbatch")
    with open(ROOT / "pyproject.toml", "rb") as handle:
        version = tomllib.load(handle)["project"]["version"]
    icon_images = ico_sizes(ROOT / "resources" / "icons" / "xlbatch.ico")
    failures = 0
    for name, subsystem in EXPECTED.items():
        path = folder / name
        if not path.is_file():
            print(f"[FAIL] {path} is missing")
            failures += 1
            continue
        pe = pefile.PE(str(path))
        got_subsystem = pefile.SUBSYSTEM_TYPE.get(pe.OPTIONAL_HEADER.Subsystem, "?").replace("IMAGE_SUBSYSTEM_", "")
        strings = version_strings(pe)
        icons = icon_group_count(pe)
        problems = []
        if got_subsystem != subsystem:
            problems.append(f"subsystem {got_subsystem}, expected {subsystem}")
        if icons != icon_images or icons == 0:
            problems.append(f"icon group with {icons} images, expected the {icon_images} of xlbatch.ico")
        for key, expected in (("FileVersion", version), ("ProductVersion", version), ("OriginalFilename", name)):
            if strings.get(key) != expected:
                problems.append(f"{key} {strings.get(key)!r}, expected {expected!r}")
        pe.close()
        mark = "FAIL" if problems else "PASS"
        detail = "; ".join(problems) or (
            f"{got_subsystem}, {icons} icon images, {strings.get('FileDescription')!r} {strings.get('FileVersion')}"
        )
        print(f"[{mark}] {name}: {detail}")
        failures += bool(problems)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
