"""The table models and the formatting rules, without any widget.

Events are built by hand (as the runner would emit them), so each test knows exactly which rows must
change; `dataChanged` emissions are recorded to check that a pass announces ranges, not single cells.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from xlbatch.errors import ADVICE, FileError
from xlbatch.events import BatchStarted, FileFinished, FileProgress, FileStarted, Notice
from xlbatch.gui import eventlog
from xlbatch.gui.formatting import RateMeter, file_type, format_duration, format_remaining, format_size, progress_text
from xlbatch.gui.models import (
    CANCELLED,
    COL_ADVICE,
    COL_FILE,
    COL_KIND,
    COL_NAME,
    COL_SIZE,
    COL_STATUS,
    COL_TIME,
    COL_WORKER,
    DONE,
    FAILED,
    QUEUED,
    READY,
    RUNNING,
    SKIPPED,
    ErrorsModel,
    FilesModel,
    KindRole,
    PathRole,
    ProgressRole,
    StatusRole,
    row_ranges,
)
from xlbatch.outcome import FileOutcome

DISPLAY = Qt.ItemDataRole.DisplayRole


def entries(n: int, folder: str = "/data") -> list[tuple[str, int, str | None]]:
    return [(str(Path(folder) / f"book-{i:05d}.xlsx"), 1000 + i, None) for i in range(n)]


def finished(index: int, path: str, status: str = "ok", seconds: float = 1.5, error: FileError | None = None):
    return FileFinished(index, path, FileOutcome(index, path, status, seconds, error=error))


class Recorder:
    def __init__(self, model) -> None:
        self.ranges: list[tuple[int, int, int, int]] = []
        model.dataChanged.connect(
            lambda top, bottom, _roles=None: self.ranges.append(
                (top.row(), bottom.row(), top.column(), bottom.column())
            )
        )


def test_files_model_passes_qt_model_checks(qtmodeltester):
    model = FilesModel()
    model.add_files(entries(5))
    qtmodeltester.check(model)
    errors = ErrorsModel()
    errors.add_errors([("/data/x.xlsx", FileError("corrupt", "Damaged."))])
    qtmodeltester.check(errors)


def test_add_files_skips_duplicates_and_totals_sizes():
    model = FilesModel()
    first = entries(3)
    assert model.add_files(first) == 3
    assert model.add_files(first[1:] + entries(1, "/other")) == 1
    assert model.rowCount() == 4
    assert model.total_size == sum(size for _p, size, _r in first) + 1000
    assert model.paths()[3] == str(Path("/other") / "book-00000.xlsx")
    index = model.index(0, COL_NAME)
    assert model.data(index) == "book-00000.xlsx"
    assert model.data(model.index(0, COL_SIZE)) == format_size(1000)
    assert model.data(model.index(0, COL_STATUS)) == "Ready"
    assert model.data(index, PathRole) == first[0][0]


def test_a_file_known_to_be_skipped_says_so_before_the_batch():
    model = FilesModel()
    model.add_files([("/data/~$book.xlsx", 165, "Excel lock file")])
    index = model.index(0, COL_STATUS)
    assert model.data(index) == "Will be skipped"
    assert model.data(index, Qt.ItemDataRole.ToolTipRole) == "Excel lock file"


def test_remove_rows_reindexes_paths():
    model = FilesModel()
    items = entries(6)
    model.add_files(items)
    assert model.remove_rows([4, 1, 2]) == 3
    assert model.paths() == [items[0][0], items[3][0], items[5][0]]
    assert model.row_of(items[5][0]) == 2
    assert model.row_of(items[1][0]) == -1
    assert model.total_size == items[0][1] + items[3][1] + items[5][1]


def test_row_ranges():
    assert row_ranges([]) == []
    assert row_ranges([7, 1, 2, 3, 3]) == [(1, 3), (7, 7)]
    assert row_ranges(range(0, 100, 2), max_ranges=10) == [(0, 98)]


def test_begin_batch_maps_indexes_by_path_and_marks_left_out_rows():
    model = FilesModel()
    items = entries(4)
    model.add_files(items)
    # The plan lists the files in its own order and has left row 2 out (inside the output folder).
    plan_paths = [items[3][0], items[0][0], items[1][0]]
    left_out = model.begin_batch(plan_paths)
    assert left_out == [2]
    assert model.row(2).status == SKIPPED
    assert [model.row(r).status for r in (0, 1, 3)] == [QUEUED, QUEUED, QUEUED]
    # Batch index 0 is row 3.
    model.apply([FileStarted(0, plan_paths[0])])
    assert model.row(3).status == RUNNING
    assert model.row(0).status == QUEUED


def test_apply_updates_rows_and_announces_ranges_once_per_pass():
    model = FilesModel()
    items = entries(50)
    model.add_files(items)
    paths = [p for p, _s, _r in items]
    model.begin_batch(paths)
    seen = Recorder(model)
    events = []
    for i in list(range(0, 10)) + list(range(20, 30)):
        events += [FileStarted(i, paths[i]), FileProgress(i, paths[i], 0.5, "half")]
    for i in range(0, 10):
        events.append(finished(i, paths[i]))
    assert model.apply(events) == 20
    # One pass: rows 0-9 and 20-29 are two ranges over the status and time columns.
    assert seen.ranges == [(0, 9, COL_STATUS, COL_WORKER), (20, 29, COL_STATUS, COL_WORKER)]
    assert model.row(0).status == DONE
    assert model.data(model.index(0, COL_TIME)) == format_duration(1.5)
    assert model.row(25).status == RUNNING
    assert model.data(model.index(25, COL_STATUS), ProgressRole) == 0.5
    assert model.data(model.index(25, COL_STATUS), Qt.ItemDataRole.ToolTipRole) == "half"
    assert model.status_counts()[RUNNING] == 10
    # The running rows' elapsed time is refreshed as one range of the time column.
    seen.ranges.clear()
    model.refresh_running()
    assert seen.ranges == [(20, 29, COL_TIME, COL_TIME)]


def test_progress_before_start_in_the_same_pass_still_shows_running():
    model = FilesModel()
    model.add_files(entries(1))
    path = model.paths()[0]
    model.begin_batch([path])
    model.apply([FileProgress(0, path, 0.25)])
    assert model.row(0).status == RUNNING
    assert model.data(model.index(0, COL_STATUS), StatusRole) == RUNNING


def test_failed_and_cancelled_outcomes_and_finish_batch():
    model = FilesModel()
    items = entries(4)
    model.add_files(items)
    paths = [p for p, _s, _r in items]
    model.begin_batch(paths)
    error = FileError("not_a_workbook", "This is not a workbook.")
    model.apply(
        [
            finished(0, paths[0], "failed", 0.1, error),
            FileFinished(1, paths[1], FileOutcome(1, paths[1], "cancelled", reason="stopped by the user")),
            FileStarted(2, paths[2]),
        ]
    )
    assert model.row(0).status == FAILED
    assert model.data(model.index(0, COL_STATUS), Qt.ItemDataRole.ToolTipRole) == "This is not a workbook."
    assert model.row(1).status == CANCELLED
    assert model.row(1).note == "stopped by the user"
    model.finish_batch()  # rows 2 (running) and 3 (queued) never got an outcome
    assert [model.row(r).status for r in (2, 3)] == [CANCELLED, CANCELLED]
    assert model.rows_with_status(FAILED) == [0]


def test_a_new_batch_resets_only_the_rows_it_runs():
    model = FilesModel()
    items = entries(3)
    model.add_files(items)
    paths = [p for p, _s, _r in items]
    model.begin_batch(paths)
    model.apply([finished(0, paths[0]), finished(1, paths[1], "failed", error=FileError("corrupt", "Damaged."))])
    model.finish_batch()
    model.begin_batch([paths[1]], rows=[1])  # retry the failed one
    assert [model.row(r).status for r in range(3)] == [DONE, QUEUED, CANCELLED]
    model.apply([finished(0, paths[1])])  # batch index 0 is now row 1
    assert model.row(1).status == DONE


def test_clear_empties_everything():
    model = FilesModel()
    model.add_files(entries(3))
    model.clear()
    assert model.rowCount() == 0
    assert model.total_size == 0
    assert model.paths() == []
    assert model.status_counts()[READY] == 0


def test_errors_model_rows_advice_and_table():
    model = ErrorsModel()
    seen_rows = []
    model.rowsInserted.connect(lambda _parent, first, last: seen_rows.append((first, last)))
    errors = [
        ("/in/notes.xlsx", FileError("not_a_workbook", "Plain text, not a workbook.", "first bytes")),
        ("/in/old.xlsx", FileError("corrupt", "The file is damaged.")),
    ]
    assert model.add_errors(errors) == 2
    assert seen_rows == [(0, 1)]  # one insert for the lot
    assert model.data(model.index(0, COL_FILE)) == "notes.xlsx"
    assert model.data(model.index(0, COL_KIND), KindRole) == "not_a_workbook"
    assert model.data(model.index(0, COL_KIND)) == "Not a workbook"
    assert model.data(model.index(0, COL_ADVICE)) == ADVICE["not_a_workbook"]
    assert model.data(model.index(1, COL_FILE), PathRole) == "/in/old.xlsx"
    header, body = model.table()
    assert header[:4] == ["File", "Folder", "Problem", "Kind"]
    assert body[1][:4] == ["old.xlsx", "/in", "Damaged file", "corrupt"]
    assert body[1][5] == ADVICE["corrupt"]
    _h, only_second = model.table([1])
    assert only_second == [body[1]]


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1023 bytes"),
        (1536, "1.5 KB"),
        (150 * 1024, "150 KB"),
        (5 * 2**20, "5.0 MB"),
    ],
)
def test_format_size(size, text):
    assert format_size(size) == text


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.42, "0.4 s"), (12.4, "12 s"), (75, "1 min 15 s"), (3700, "1 h 01 min")]
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_progress_text_and_estimate():
    # 83 files left at 2.4 files/s = 34.6 s, shown rounded to 5 s.
    assert progress_text(37, 120, 2.4) == "37 of 120 files, 2.4 files/s, about 35 s left"
    assert progress_text(0, 120, 0.0) == "0 of 120 files, starting…"
    assert progress_text(120, 120, 3.0) == "120 of 120 files"
    assert progress_text(1, 1000, 0.1).endswith("about 2 h 46 min left")  # 999 / 0.1 = 9990 s
    assert format_remaining(4) == "a few seconds"
    assert progress_text(24, 37, 2.8) == "24 of 37 files, 2.8 files/s, a few seconds left"
    assert format_remaining(600) == "10 min"


def test_rate_meter_uses_a_sliding_window():
    now = [100.0]
    meter = RateMeter(window=10.0, clock=lambda: now[0])
    now[0] = 102.0
    meter.add(4)
    assert meter.rate() == pytest.approx(4 / 2.0)
    now[0] = 120.0  # the four files are now older than the window
    meter.add(5)
    assert meter.rate() == pytest.approx(5 / 10.0)


def test_file_types():
    assert file_type("a.XLSX") == "Excel workbook"
    assert file_type("b.xls") == "Excel 97-2003 workbook"
    assert file_type("c.txt") == "TXT file"


def test_event_log_lines():
    started = BatchStarted("summarize", "processes", "CPU-bound task", 2, 10, "/out")
    text = eventlog.describe(started)
    assert text is not None
    assert "Started 'summarize' on 10 files" in text and "Processes" in text and "CPU-bound task" in text
    assert "! " in eventlog.describe(Notice("warning", "Free memory is low"))
    path = "/in/notes.xlsx"
    failed = finished(0, path, "failed", error=FileError("not_a_workbook", "Plain text."))
    assert "Failed: notes.xlsx: Plain text. [not_a_workbook]" in eventlog.describe(failed)
    assert eventlog.describe(finished(1, "/in/a.xlsx")) is None
    assert eventlog.describe(FileProgress(0, path, 0.5)) is None
