"""Two inputs that differ only by extension (sales.xls beside sales.xlsx, as a folder being converted
from .xls to .xlsx holds) never write over each other's outputs: each gets its own name, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.task_kit import write_csv_lines, write_xls, write_xlsx_openpyxl
from xlbatch.runner import run_batch
from xlbatch.workbook import open_workbook


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_inputs_that_share_a_name_get_outputs_of_their_own(tmp_path: Path, backend: str) -> None:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    write_xls(folder / "sales.xls", {"S": [["from"], ["xls"]]})
    write_xlsx_openpyxl(folder / "sales.xlsx", {"S": [["from"], ["xlsx"]]})
    write_csv_lines(folder / "SALES.csv", ["from", "csv"])
    write_xlsx_openpyxl(folder / "other.xlsx", {"S": [["from"], ["other"]]})
    write_xlsx_openpyxl(folder / "sub" / "sales.xlsx", {"S": [["from"], ["sub"]]})  # another folder: no clash
    out = tmp_path / "out"
    report = run_batch(task="convert", paths=[str(folder)], out_dir=str(out), backend=backend, workers=2)
    assert report.counts["ok"] == 5, [(f.path, f.error) for f in report.files]
    written = {str(p.relative_to(out)): p for p in out.rglob("*.xlsx")}
    assert set(written) == {"sales (xls).xlsx", "sales (xlsx).xlsx", "SALES (csv).xlsx", "other.xlsx", "sub/sales.xlsx"}
    for name, expected in [("sales (xls).xlsx", "xls"), ("sales (xlsx).xlsx", "xlsx"), ("SALES (csv).xlsx", "csv"),
                           ("sub/sales.xlsx", "sub")]:  # fmt: skip
        with open_workbook(written[name]) as book:
            assert list(book.rows(book.sheet_names[0]))[1] == [expected]
    by_name = {Path(f.path).name: f for f in report.files}
    assert any("same name" in w and "'sales (xls)'" in w for w in by_name["sales.xls"].warnings)
    assert not any("same name" in w for w in by_name["other.xlsx"].warnings)
