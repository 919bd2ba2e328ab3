"""Hostile inputs in one batch: each bad file gets exactly one error row of the right kind and a plain
message; every good file beside them is still processed; inputs stay byte-identical."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

import tests.corpus as corpus
from tests.helpers import assert_invariants
from xlbatch import errors
from xlbatch.events import FileProgress
from xlbatch.preflight import sniff
from xlbatch.runner import run_batch

# generator -> (status, error kind or None, a phrase of the message a user sees)
EXPECTED = {
    corpus.make_empty_file: ("failed", errors.EMPTY, "empty"),
    corpus.make_truncated_xlsx: ("failed", errors.CORRUPT, "damaged or incomplete"),
    corpus.make_csv_renamed_xlsx: ("failed", errors.NOT_A_WORKBOOK, "rename it to .csv"),
    corpus.make_text_renamed_xlsx: ("failed", errors.NOT_A_WORKBOOK, "plain text"),
    corpus.make_zip_not_workbook: ("failed", errors.NOT_A_WORKBOOK, "zip archive"),
    corpus.make_bad_crc_xlsx: ("failed", errors.CORRUPT, "damaged"),
    corpus.make_encrypted_xlsx: ("failed", errors.ENCRYPTED, "password-protected"),
    corpus.make_xls_renamed_xlsx: ("ok", None, ""),  # routed by content: read as the .xls it is
    corpus.make_lock_file: ("skipped", None, "lock file"),
    corpus.make_html_table_xls: ("failed", errors.NOT_A_WORKBOOK, "web page"),
    corpus.make_billion_laughs_xlsx: ("failed", errors.CORRUPT, "entity declarations"),
    corpus.make_quadratic_blowup_xlsx: ("failed", errors.CORRUPT, "entity declarations"),
    corpus.make_external_entity_xlsx: ("failed", errors.CORRUPT, "entity declarations"),
    corpus.make_zip_bomb_xlsx: ("failed", errors.TOO_LARGE, "zip bomb"),
    corpus.make_empty_workbook: ("ok", None, ""),
    corpus.make_empty_sheets_workbook: ("ok", None, ""),
    corpus.make_formulas_without_values: ("ok", None, ""),
    corpus.make_merged_cells: ("ok", None, ""),
    corpus.make_dates_as_numbers: ("ok", None, ""),
    corpus.make_long_string_cell: ("ok", None, ""),
    corpus.make_control_chars: ("ok", None, ""),
    corpus.make_odd_sheet_names: ("ok", None, ""),
    # calamine tolerates an unclosed tag and reads every row: the values are intact, so the file is ok
    corpus.make_unclosed_tag_xlsx: ("ok", None, ""),
}


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("hostile")
    folder = root / "in"
    folder.mkdir()
    made = {gen: gen(folder) for gen in EXPECTED}
    good = [corpus.make_ledger(folder / f"good-{i}.xlsx", rows=30, seed=i) for i in range(3)]
    good += corpus.make_unicode_file_names(folder / "unicode")
    good.append(corpus.make_long_path_ledger(folder))
    from tests.conftest import hash_tree

    before = hash_tree(folder)
    report = run_batch(
        task="summarize", paths=[str(folder)], out_dir=str(root / "out"), backend="processes", workers=2, timeout=60
    )
    assert hash_tree(folder) == before  # no input is ever modified
    return made, good, report, folder


@pytest.mark.parametrize("generator", list(EXPECTED), ids=lambda g: g.__name__.removeprefix("make_"))
def test_each_hostile_file_gets_its_exact_outcome(hostile_batch, generator) -> None:
    made, _good, report, _folder = hostile_batch
    status, kind, phrase = EXPECTED[generator]
    rows = [f for f in report.files if f.path == str(Path(made[generator]).resolve())]
    assert len(rows) == 1, "exactly one row per file"
    outcome = rows[0]
    assert outcome.status == status, (outcome.error, outcome.reason)
    if kind is None:
        assert outcome.error is None
        if phrase:
            assert phrase in (outcome.reason or "")
    else:
        assert outcome.error.kind == kind
        assert phrase in outcome.error.message
        assert outcome.error.message.endswith(".") and "\n" not in outcome.error.message  # one sentence
        assert outcome.error.detail  # the technical text is kept for whoever digs deeper


def test_good_files_beside_hostile_ones_are_all_processed(hostile_batch) -> None:
    made, good, report, folder = hostile_batch
    by_path = {f.path: f for f in report.files}
    for path in good:
        outcome = by_path[str(Path(path).resolve())]
        assert outcome.status == "ok"
        assert outcome.result["sheets"][0]["rows"] == len(corpus.ledger_truth(30 if "good" in path.name else 10, 0))
    assert_invariants(report, list(made.values()) + good)
    assert report.exit_code == 1


def test_warnings_say_what_readers_get_wrong(hostile_batch) -> None:
    made, _good, report, _folder = hostile_batch
    by_path = {f.path: f for f in report.files}
    formulas = by_path[str(made[corpus.make_formulas_without_values].resolve())]
    assert any("no saved result" in w for w in formulas.warnings)
    merged = by_path[str(made[corpus.make_merged_cells].resolve())]
    assert any("merged" in w for w in merged.warnings)
    empty = by_path[str(made[corpus.make_empty_workbook].resolve())]
    assert any("no values" in w for w in empty.warnings)


def test_long_strings_and_odd_sheet_names_are_read_exactly(hostile_batch) -> None:
    made, _good, report, _folder = hostile_batch
    by_path = {f.path: f for f in report.files}
    names = [s["name"] for s in by_path[str(made[corpus.make_odd_sheet_names].resolve())].result["sheets"]]
    assert names == list(corpus.ODD_SHEET_NAMES)
    long_text = by_path[str(made[corpus.make_long_string_cell].resolve())]
    assert long_text.result["sheets"][0]["non_empty_cells"] >= 1


@pytest.mark.parametrize(
    "maker",
    [
        corpus.make_billion_laughs_xlsx,
        corpus.make_quadratic_blowup_xlsx,
        corpus.make_external_entity_xlsx,
        corpus.make_zip_bomb_xlsx,
    ],
)
def test_bombs_are_refused_fast_and_small(tmp_path: Path, maker) -> None:
    path = maker(tmp_path)
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(errors.TaskFailure):
        sniff(path)
    seconds = time.perf_counter() - start
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MB"
    assert seconds < 2 or pytest.fail(f"took {seconds:.1f} s")


def test_a_sheet_of_1048576_rows_is_processed_with_progress(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    path = corpus.make_max_rows_xlsx(tmp_path / "in")
    progress: list[float] = []
    report = run_batch(
        task="summarize",
        paths=[str(path)],
        out_dir=str(tmp_path / "out"),
        backend="processes",
        workers=1,
        on_event=lambda e: progress.append(e.fraction) if isinstance(e, FileProgress) else None,
    )
    outcome = report.files[0]
    assert outcome.status == "ok"
    sheet = outcome.result["sheets"][0]
    assert sheet["rows"] == corpus.EXCEL_MAX_ROWS
    assert sheet["numeric_sum"] == (corpus.EXCEL_MAX_ROWS - 1) * corpus.EXCEL_MAX_ROWS / 2
    assert len(progress) >= 5  # progress kept moving while the big sheet was read


def test_a_file_open_in_another_program_is_permission_denied(tmp_path: Path, monkeypatch) -> None:
    import xlbatch.preflight as preflight

    locked = corpus.make_ledger(tmp_path / "in" / "open-in-excel.xlsx")
    fine = corpus.make_ledger(tmp_path / "in" / "fine.xlsx")
    real = preflight._read_head

    def read_head(path: Path, count: int = 8192) -> bytes:
        if path.name == locked.name:  # what Windows raises while Excel holds the file
            raise PermissionError(13, "The process cannot access the file because it is being used by another process")
        return real(path, count)

    monkeypatch.setattr(preflight, "_read_head", read_head)
    report = run_batch(
        task="summarize", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"), backend="sequential"
    )
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["open-in-excel.xlsx"].error.kind == errors.PERMISSION_DENIED
    assert "close it in Excel and retry" in by_name["open-in-excel.xlsx"].error.message
    assert by_name["fine.xlsx"].status == "ok"
    assert fine.exists()
