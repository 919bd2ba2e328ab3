"""The Windows version resource of xlbatch.exe and xlbatch-cli.exe (Explorer: Properties > Details).

build.spec calls `write_version_file()` at build time with the version from pyproject.toml, so the
numbers never drift from the package. The output is the text form PyInstaller's `version=` option
reads (a `VSVersionInfo(...)` expression it evaluates with its own classes).

Run by hand to see what is embedded:  python packaging/windows/version_info.py 1.2.3
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

COMPANY = "xlbatch"
PRODUCT = "xlbatch"
COPYRIGHT = "xlbatch contributors; MIT License"
# U.S. English, Unicode: the language/code page pair Windows looks up the strings under.
LANGUAGE, CODEPAGE = 0x0409, 1200

TEMPLATE = """# UTF-8
# The version resource of {original_filename}, written by packaging/windows/version_info.py.
VSVersionInfo(
  ffi=FixedFileInfo(
    filevers={numbers},
    prodvers={numbers},
    mask=0x3F,
    flags=0x0,
    OS=0x40004,
    fileType=0x1,
    subtype=0x0,
    date=(0, 0),
  ),
  kids=[
    StringFileInfo([
      StringTable({table!r}, [
        StringStruct('CompanyName', {company!r}),
        StringStruct('FileDescription', {description!r}),
        StringStruct('FileVersion', {version!r}),
        StringStruct('InternalName', {internal_name!r}),
        StringStruct('LegalCopyright', {copyright!r}),
        StringStruct('OriginalFilename', {original_filename!r}),
        StringStruct('ProductName', {product!r}),
        StringStruct('ProductVersion', {version!r}),
      ])
    ]),
    VarFileInfo([VarStruct('Translation', [{language:#06x}, {codepage}])]),
  ]
)
"""


def version_numbers(version: str) -> tuple[int, int, int, int]:
    """Four 16-bit numbers, as Windows stores them: "1.2.3" -> (1, 2, 3, 0), "0.4.0rc1" -> (0, 4, 0, 0)."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", version)
    if not match:
        raise ValueError(f"not a version number: {version!r}")
    numbers = [min(int(part), 0xFFFF) for part in match.group(1).split(".")][:4]
    numbers += [0] * (4 - len(numbers))
    return (numbers[0], numbers[1], numbers[2], numbers[3])


def render(version: str, internal_name: str, description: str) -> str:
    """The version resource text of `internal_name`.exe."""
    return TEMPLATE.format(
        numbers=version_numbers(version),
        table=f"{LANGUAGE:04X}{CODEPAGE:04X}",
        company=COMPANY,
        description=description,
        version=version,
        internal_name=internal_name,
        copyright=COPYRIGHT,
        original_filename=f"{internal_name}.exe",
        product=PRODUCT,
        language=LANGUAGE,
        codepage=CODEPAGE,
    )


def write_version_file(folder: str | Path, version: str, internal_name: str, description: str) -> str:
    """Write `<folder>/version-<internal_name>.txt` and return its path (for EXE(version=...))."""
    target = Path(folder) / f"version-{internal_name}.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(version, internal_name, description), encoding="utf-8")
    return str(target)


if __name__ == "__main__":
    print(render(sys.argv[1] if len(sys.argv) > 1 else "0.0.0", "xlbatch", "xlbatch"))
