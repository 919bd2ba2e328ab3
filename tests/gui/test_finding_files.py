"""Finding files: the status filter and the name search over the file table, first on the models alone
(FilesFilter over FilesModel, events built by hand as the runner sends them), then through the Files tab.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLineEdit, QTableView

from xlbatch.errors import FileError
from xlbatch.events import FileFinished, FileStarted
from xlbatch.gui.files_filter import STATUS_FILTERS, FilesFilter, filter_counts
from xlbatch.gui.files_view import ColumnPlan, fit_columns
from xlbatch.gui.models import COL_NAME, FilesModel, PathRole
from xlbatch.outcome import FileOutcome
from xlbatch.runner import UNCHANGED

NAMES = ["North sales.xlsx", "south sales.xlsx", "Budget 2026.xlsx", "staff list.csv", "Notes.xlsx", "east.xls"]
# What the batch did to each file, by position: done, failed, skipped as unchanged, cancelled, skipped, running.
OUTCOMES = [("ok", None), ("failed", "corrupt"), ("skipped", UNCHANGED), ("cancelled", None), ("skipped", "lock")]


def model_after_batch() -> FilesModel:
    model = FilesModel()
    paths = [str(Path("/data/finance") / name) for name in NAMES]
    model.add_files([(p, 1000, None) for p in paths])
    model.begin_batch(paths)
    events = []
    for index, (status, extra) in enumerate(OUTCOMES):
        error = FileError(extra, "The file is damaged.", "zlib error") if status == "failed" else None
        reason = extra if status == "skipped" else None
        outcome = FileOutcome(index, paths[index], status, error=error, reason=reason)
        events.append(FileFinished(index, paths[index], outcome))
    events.append(FileStarted(5, paths[5]))
    model.apply(events)
    return model


def shown(proxy: FilesFilter) -> list[str]:
    return [proxy.data(proxy.index(r, COL_NAME)) for r in range(proxy.rowCount())]


def test_each_status_filter_shows_its_rows_and_all_shows_every_row(qapp):
    proxy = FilesFilter(model_after_batch())
    assert shown(proxy) == NAMES and not proxy.active
    expected = {
        "failed": ["south sales.xlsx"],
        "done": ["North sales.xlsx"],
        "skipped": ["Budget 2026.xlsx", "Notes.xlsx"],  # unchanged counts as skipped, as the engine counts it
        "cancelled": ["staff list.csv"],
        "all": NAMES,
    }
    for key, names in expected.items():
        proxy.set_status(key)
        assert shown(proxy) == names, key
    assert [f.title for f in STATUS_FILTERS] == ["All", "Failed", "Done", "Skipped", "Cancelled"]


def test_the_search_matches_the_name_in_any_case_and_combines_with_the_status(qapp):
    proxy = FilesFilter(model_after_batch())
    proxy.set_search("  SALES ")
    assert shown(proxy) == ["North sales.xlsx", "south sales.xlsx"]
    proxy.set_status("failed")
    assert shown(proxy) == ["south sales.xlsx"]
    proxy.set_search("finance")  # the folder is not searched: it is the same for every file here
    assert shown(proxy) == []
    proxy.set_search("")
    proxy.set_status("all")
    assert shown(proxy) == NAMES


def test_rows_come_and_go_as_their_status_changes(qapp):
    model = model_after_batch()
    proxy = FilesFilter(model)
    proxy.set_status("failed")
    running = model.row(5).path
    model.apply([FileFinished(5, running, FileOutcome(5, running, "failed", error=FileError("timeout", "Too long.")))])
    assert shown(proxy) == ["south sales.xlsx", "east.xls"]
    # Rows of the view map to rows of the model, both ways.
    assert [proxy.source_row(r) for r in range(proxy.rowCount())] == [1, 5]
    assert proxy.view_row(5) == 1 and proxy.view_row(0) == -1
    assert proxy.data(proxy.index(1, COL_NAME), PathRole) == running


def test_filter_counts_follow_the_status_counts(qapp):
    counts = filter_counts(model_after_batch().status_counts())
    assert counts == {"all": 6, "failed": 1, "done": 1, "skipped": 2, "cancelled": 1}


def test_columns_shrink_in_order_then_drop_the_type_column():
    plan = ColumnPlan(
        preferred={0: 180, 1: 120, 2: 80, 3: 150, 4: 140, 5: 90},
        minimum={0: 100, 1: 50, 3: 110},
        shrink=(3, 1, 0),
        drop=(3,),
        stretch=1,
    )
    widths, hidden = fit_columns(1000, plan)
    assert widths == {0: 180, 2: 80, 3: 150, 4: 140, 5: 90} and hidden == set()
    widths, hidden = fit_columns(720, plan)  # 40 too wide: the type column gives them
    assert widths[3] == 110 and widths[0] == 180 and hidden == set()
    widths, hidden = fit_columns(640, plan)  # type to its minimum, then the folder, then the name
    assert (widths[3], widths[0]) == (110, 170) and hidden == set()
    widths, hidden = fit_columns(500, plan)  # even the minimums do not fit: the type column goes
    assert hidden == {3} and 3 not in widths and widths[0] == 140


# -- through the Files tab ---------------------------------------------------------------------------
@pytest.fixture
def batch_window(window, inputs, qtbot, tmp_path):
    from tests.gui.test_window import BATCH_TIMEOUT_MS, pick, set_output

    window.add_paths([inputs])
    pick(window, "taskCombo", "summarize")
    set_output(qtbot, window, tmp_path / "out")
    with qtbot.waitSignal(window.batchFinished, timeout=BATCH_TIMEOUT_MS):
        window.start_batch()
    return window


def test_the_files_tab_filters_and_searches(batch_window, qtbot):
    window = batch_window
    combo = window.findChild(QComboBox, "statusFilter")
    search = window.findChild(QLineEdit, "fileSearch")
    view = window.findChild(QTableView, "filesView")
    titles = [combo.itemText(i) for i in range(combo.count())]
    assert titles == ["All (4)", "Failed (1)", "Done (3)", "Skipped", "Cancelled"]
    combo.setCurrentIndex(combo.findData("failed"))
    assert view.model().rowCount() == 1
    assert view.model().data(view.model().index(0, COL_NAME)) == "notes.xlsx"
    assert window.files_panel.summary_label.text().startswith("Showing 1 of 4 files")
    combo.setCurrentIndex(combo.findData("all"))
    qtbot.keyClicks(search, "ALPHA")
    assert view.model().rowCount() == 1 and window.files_panel.summary_label.text().startswith("Showing 1 of 4")
    # Selecting and removing work on the row shown, not on the row at that position in the list.
    alpha = next(r for r in range(window.files.rowCount()) if window.files.row(r).name == "alpha.xlsx")
    view.selectRow(0)
    assert window.files_panel.selected_rows() == [alpha]
    window.files_panel.select_rows([r for r in range(window.files.rowCount()) if r != alpha])  # hidden rows
    assert window.files_panel.selected_rows() == []
    view.selectRow(0)
    window.remove_selected()
    assert "alpha.xlsx" not in [window.files.row(r).name for r in range(window.files.rowCount())]
    assert window.files.rowCount() == 3 and view.model().rowCount() == 0
    search.clear()
    assert view.model().rowCount() == 3


def test_a_double_click_opens_the_file_details(batch_window, qtbot):
    from xlbatch.gui.file_details import FileDetailsDialog

    window = batch_window
    view = window.findChild(QTableView, "filesView")
    window.files_panel.status_filter.setCurrentIndex(window.files_panel.status_filter.findData("failed"))
    rect = view.visualRect(view.model().index(0, COL_NAME))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = window.findChild(FileDetailsDialog, "fileDetailsDialog")
    assert dialog is not None and dialog.isVisible()
    assert dialog.row.name == "notes.xlsx"  # the row under the mouse in the filtered view
    dialog.close()
