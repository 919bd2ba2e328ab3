"""Preflight routes by content, not by extension, and explains what it refuses."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import tests.corpus as corpus
from core import errors
from core.errors import TaskFailure
from core.preflight import sniff


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
