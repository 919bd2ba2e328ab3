"""Every real-world workbook python-calamine can open is processed; every one it cannot gets the right kind.

The collection is calamine's own test suite: date systems, rich text, merged and hidden sheets, chart
sheets, minimal packages with unusual part names, capitalised OLE stream names, password-protected and
damaged files. It is stranger than anything a generator here writes, so the kinds of the refused files
are pinned one by one, and every other file must come out `ok`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import assert_invariants, realworld_folder
from xlbatch.runner import run_batch

# The files no reader can process, and why. Everything else in the folder must be `ok`.
REFUSED = {
    "issue252.xlsx": "corrupt",  # a part's CRC does not match: damaged in transit
    "OOM_alloc3.xls": "corrupt",  # its OLE2 sector table points past the end of the file
    "issue_594_dos.ods": "corrupt",  # repeats a cell 17 billion times: no spreadsheet is that big
    "issue_385.xls": "encrypted",
    "pass_protected.ods": "encrypted",
    "pass_protected.xlsb": "encrypted",
    "pass_protected.xlsx": "encrypted",
    "too_small.xls": "not_a_workbook",  # 68 bytes of plain text named .xls
}
# Valid workbooks an earlier preflight refused, and the chart sheets a reader cannot read as cells.
ONCE_REFUSED = ("capitalized_wbook_stream.xls", "minimal_package.xlsx", "issue_530.xlsx", "any_sheets.xlsb")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("realworld") / "calamine"
    shutil.copytree(realworld_folder("calamine"), folder)
    (folder / "LICENSE-MIT.md").unlink(missing_ok=True)
    return folder


@pytest.mark.parametrize(
    ("task", "backend"),
    [("summarize", "processes"), ("summarize", "threads"), ("convert", "multiprocessing"), ("convert", "sequential")],
)
def test_every_readable_workbook_is_processed(corpus: Path, tmp_path: Path, task: str, backend: str) -> None:
    report = run_batch(task=task, paths=[str(corpus)], out_dir=str(tmp_path / "out"), backend=backend, timeout=120)
    assert_invariants(report, sorted(p for p in corpus.iterdir() if p.is_file()))
    by_name = {Path(f.path).name: f for f in report.files}
    refused = {name: f.error.kind for name, f in by_name.items() if f.status != "ok" and f.error is not None}
    assert refused == REFUSED
    assert {name: f.status for name, f in by_name.items() if name not in REFUSED and f.status != "ok"} == {}
    for name in REFUSED:
        message = by_name[name].error.message
        assert message.endswith(".") and "Error" not in message and "error:" not in message
    for name in ONCE_REFUSED:
        assert by_name[name].status == "ok"
    charts = [w for w in by_name["any_sheets.xlsb"].warnings if "chart sheet" in w]
    assert charts == ["Sheet 'Chart' is a chart sheet and holds no cells; it was skipped."]
    if task == "summarize":
        sheets = {s["name"]: s for s in by_name["any_sheets.xlsb"].result["sheets"]}
        assert list(sheets) == ["Visible", "Hidden", "VeryHidden"]
        assert sheets["Visible"]["numeric_sum"] == 21
        assert by_name["minimal_package.xlsx"].result["sheets"][0]["non_empty_cells"] > 5000
    else:
        assert all(Path(p).is_file() for f in by_name.values() for p in f.outputs)
        assert len(by_name["issue_530.xlsx"].outputs) == 1
