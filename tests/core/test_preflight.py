"""Preflight routes by content, not by extension, and explains what it refuses."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import tests.corpus as corpus
from xlbatch import errors
from xlbatch.errors import TaskFailure
from xlbatch.preflight import sniff


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods", "csv"])
def test_real_formats_are_recognised(tmp_path: Path, fmt: str) -> None:
    path = corpus.make_ledger(tmp_path / f"ledger.{fmt}", fmt=fmt)
    assert sniff(path).format == fmt


def test_content_wins_over_the_extension(tmp_path: Path) -> None:
    assert sniff(corpus.make_xls_renamed_xlsx(tmp_path)).format == "xls"


def test_xlsm_is_recognised_by_its_macro_part(tmp_path: Path) -> None:
    source = corpus.make_ledger(tmp_path / "a.xlsx")
    target = tmp_path / "macro.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        dst.writestr("xl/vbaProject.bin", b"\x00" * 64)
    assert sniff(target).format == "xlsm"


def test_other_office_files_are_named_for_what_they_are(tmp_path: Path) -> None:
    doc = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(doc, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(TaskFailure) as caught:
        sniff(doc)
    assert caught.value.error.kind == errors.NOT_A_WORKBOOK and "Word" in caught.value.error.message


def test_a_large_honest_ratio_is_not_a_bomb(tmp_path: Path) -> None:
    # 20 MB of repetitive but real sheet XML compresses ~100x and must still be accepted
    path = corpus.make_zip_bomb_xlsx(tmp_path, padding=20 * 2**20)
    assert sniff(path).format == "xlsx"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaskFailure) as caught:
        sniff(tmp_path / "gone.xlsx")
    assert caught.value.error.kind == errors.NOT_FOUND


def _repack(source: Path, target: Path, rename: dict[str, str]) -> Path:
    """`source`'s package with members renamed (old name -> new name), content unchanged."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(rename.get(item.filename, item.filename), src.read(item))
    return target


def test_a_workbook_with_windows_separators_in_its_part_names_is_read(tmp_path: Path) -> None:
    source = corpus.make_ledger(tmp_path / "a.xlsx", rows=5)
    with zipfile.ZipFile(source) as src:
        rename = {n: n.replace("/", "\\") for n in src.namelist()}
    target = _repack(source, tmp_path / "backslashes.xlsx", rename)
    assert sniff(target).format == "xlsx"


def test_the_main_content_type_names_the_format_whatever_the_part_names(tmp_path: Path) -> None:
    source = corpus.make_ledger(tmp_path / "a.xlsx", rows=5)
    target = _repack(source, tmp_path / "moved.xlsx", {"xl/workbook.xml": "book/main.xml"})
    assert sniff(target).format == "xlsx"
    override = '<Types><Override PartName="/x.xml" ContentType="application/vnd.{}.main+xml"/></Types>'
    macro_types = override.format("ms-excel.sheet.macroEnabled").encode()
    deck_types = override.format("openxmlformats-officedocument.presentationml.presentation").encode()
    for name, types, expected in (("m.xlsx", macro_types, "xlsm"), ("deck.xlsx", deck_types, "PowerPoint")):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("[Content_Types].xml", types)
            archive.writestr("x.xml", b"<x/>")
        if expected == "xlsm":
            assert sniff(path).format == "xlsm"
        else:
            with pytest.raises(TaskFailure) as caught:
                sniff(path)
            assert caught.value.error.kind == errors.NOT_A_WORKBOOK and expected in caught.value.error.message


def test_an_unknown_package_is_given_to_the_reader_and_a_plain_zip_is_refused(tmp_path: Path) -> None:
    odd = tmp_path / "odd.xlsx"
    with zipfile.ZipFile(odd, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("data/part.xml", b"<x/>")
    assert sniff(odd).format == "xlsx"  # the reader decides; its error is classified then
    with pytest.raises(TaskFailure) as caught:
        sniff(corpus.make_zip_not_workbook(tmp_path))
    assert caught.value.error.kind == errors.NOT_A_WORKBOOK


@pytest.mark.parametrize("stream", ["WORKBOOK", "BOOK", "Book"])
def test_ole2_stream_names_are_case_insensitive(tmp_path: Path, stream: str) -> None:
    import olefile

    source = corpus.make_ledger(tmp_path / "a.xls", fmt="xls", rows=5)
    data = bytearray(source.read_bytes())
    with olefile.OleFileIO(bytes(data)) as ole:
        name = next(e[0] for e in ole.listdir() if e[0].lower() in ("workbook", "book"))
    # Directory entries hold the name in UTF-16: rewrite it in place, same length or padded with NULs.
    old, new = name.encode("utf-16-le"), stream.encode("utf-16-le")
    position = data.index(old + b"\x00\x00")
    data[position : position + len(old) + 2] = new + b"\x00" * (len(old) + 2 - len(new))
    data[position + 64 : position + 66] = (len(new) + 2).to_bytes(2, "little")  # the entry's name length
    target = tmp_path / "capitals.xls"
    target.write_bytes(bytes(data))
    assert sniff(target).format == "xls"
