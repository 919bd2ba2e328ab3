"""Discovery: turn the files and folders a user picked into the ordered list of files of a batch.

Folders are searched recursively for workbook patterns (case-insensitive); explicit files are taken as
given (preflight decides what they are). Excel's `~$` lock files and hidden files are listed as skipped
with the reason; hidden folders and the output folder are not entered; the same file reached twice is
kept once. Each file gets its path relative to the common root of all inputs, so outputs can mirror
the folder structure and equal names in different folders never collide.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from xlbatch.atomic import is_temp_file

DEFAULT_PATTERNS: tuple[str, ...] = ("*.xlsx", "*.xlsm", "*.xltx", "*.xltm", "*.xls", "*.xlsb", "*.ods", "*.csv")

LOCK_FILE_REASON = "Excel lock file (a temporary file Excel keeps while the workbook is open)"
HIDDEN_REASON = "hidden file"


@dataclass(frozen=True)
class Discovered:
    path: Path  # absolute
    rel: str = ""  # relative to the batch root, forward slashes
    skip_reason: str | None = None
    missing: bool = False  # named explicitly but does not exist


@dataclass
class Discovery:
    files: list[Discovered] = field(default_factory=list)
    root: Path | None = None

    @property
    def runnable(self) -> list[Discovered]:
        return [f for f in self.files if f.skip_reason is None and not f.missing]

    def output_stems(self) -> dict[str, str]:
        """rel -> the name its per-file outputs take, for inputs whose outputs would clash with another's.

        Outputs are named after their input without its extension, in the mirrored folder, so `sales.xls`
        and `sales.xlsx` side by side would both write `sales.xlsx` (and one would silently overwrite the
        other). Those files take their extension into the name instead: `sales (xls)`, `sales (xlsx)`.
        Windows file names ignore case, so the comparison does too."""
        groups: dict[tuple[str, str], list[Discovered]] = {}
        for found in self.runnable:
            rel = PurePosixPath(found.rel or found.path.name)
            groups.setdefault((str(rel.parent).casefold(), rel.stem.casefold()), []).append(found)
        stems: dict[str, str] = {}
        for clashing in (g for g in groups.values() if len(g) > 1):
            for found in clashing:
                rel = PurePosixPath(found.rel or found.path.name)
                stems[found.rel] = f"{rel.stem} ({rel.suffix.lstrip('.').lower() or 'no extension'})"
        return stems


def _is_hidden(path: Path) -> bool:
    if path.name.startswith("."):
        return True
    try:
        attributes = getattr(path.stat(), "st_file_attributes", 0)  # Windows only
    except OSError:
        return False
    return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_HIDDEN", 0))


def _matches(name: str, rel: str, patterns: Sequence[str]) -> bool:
    name, rel = name.lower(), rel.lower()
    for pattern in patterns:
        pattern = pattern.lower().replace("\\", "/")
        target = rel if "/" in pattern else name
        if fnmatch.fnmatchcase(target, pattern):
            return True
    return False


def _inside(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _walk(folder: Path, out_dir: Path | None) -> Iterable[Path]:
    """Every file below `folder`, depth first, sorted case-insensitively; hidden folders not entered."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name.lower())
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir(follow_symlinks=False)
        except OSError:
            continue
        if is_dir:
            if not _is_hidden(path) and not _inside(path.resolve(), out_dir):
                yield from _walk(path, out_dir)
        elif entry.is_file():
            yield path


def _relative_parts(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    # Different drives on Windows: keep the drive as a folder name so names stay unique.
    drive = path.drive.replace(":", "").replace("\\", "_").strip("_/")
    parts = [p for p in path.parts[1:]]
    return str(PurePosixPath(drive or "root", *parts))


def discover(
    paths: Iterable[str | os.PathLike[str]],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    out_dir: str | os.PathLike[str] | None = None,
) -> Discovery:
    """Expand `paths` into the batch's files, in a stable order. Never raises for a bad path."""
    patterns = tuple(include) or DEFAULT_PATTERNS
    out = Path(out_dir).resolve() if out_dir is not None else None
    seen: set[Path] = set()
    found: list[tuple[Path, Path, bool]] = []  # (absolute path, folder it was found under, explicit)
    missing: list[Path] = []
    for raw in paths:
        given = Path(raw).expanduser()
        absolute = given.resolve()
        if given.is_dir():
            for path in _walk(given, out):
                rel_to_given = path.relative_to(given).as_posix()
                if not _matches(path.name, rel_to_given, patterns) and not path.name.startswith("~$"):
                    continue
                found.append((path.resolve(), absolute, False))
        elif given.is_file():
            found.append((absolute, absolute.parent, True))
        else:
            missing.append(absolute)

    kept: list[Path] = []
    for path, _base, _explicit in found:
        if path in seen or _inside(path, out) or is_temp_file(path):
            continue
        seen.add(path)
        kept.append(path)

    all_paths = kept + [m for m in missing if m not in seen]
    root: Path | None = None
    if all_paths:
        try:
            root = Path(os.path.commonpath([str(p.parent) for p in all_paths]))
        except ValueError:
            root = None

    discovery = Discovery(root=root)
    for path in kept:
        rel = _relative_parts(path, root)
        if exclude and _matches(path.name, rel, exclude):
            continue
        if path.name.startswith("~$"):
            discovery.files.append(Discovered(path, rel, LOCK_FILE_REASON))
        elif _is_hidden(path):
            discovery.files.append(Discovered(path, rel, HIDDEN_REASON))
        else:
            discovery.files.append(Discovered(path, rel))
    for path in missing:
        if path not in seen:
            seen.add(path)
            discovery.files.append(Discovered(path, _relative_parts(path, root), missing=True))
    return discovery
