"""Finding files in a long list: the file table shown through a filter by status and a search by name.

`FilesFilter` is a QSortFilterProxyModel over the window's `FilesModel`: the view shows the proxy, the
model keeps every row. A row passes when its status is one of the chosen filter's (`STATUS_FILTERS`:
All, Failed, Done, Skipped, Cancelled) and its file name contains the search text (any case). Rows come
and go as their status changes during a batch (the proxy re-checks the rows `FilesModel` announces as
changed). Everything here works on the models alone; the Files tab only puts the controls in front of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel

from xlbatch.gui.models import CANCELLED, DONE, FAILED, SKIPPED, UNCHANGED, FilesModel


@dataclass(frozen=True)
class StatusFilter:
    key: str
    title: str
    statuses: frozenset[str] | None  # None: every status


# Skipped holds the files left unchanged since the last run too: the engine counts them as skipped.
STATUS_FILTERS: tuple[StatusFilter, ...] = (
    StatusFilter("all", "All", None),
    StatusFilter("failed", "Failed", frozenset({FAILED})),
    StatusFilter("done", "Done", frozenset({DONE})),
    StatusFilter("skipped", "Skipped", frozenset({SKIPPED, UNCHANGED})),
    StatusFilter("cancelled", "Cancelled", frozenset({CANCELLED})),
)
FILTERS_BY_KEY = {f.key: f for f in STATUS_FILTERS}


def filter_counts(counts: dict[str, int]) -> dict[str, int]:
    """How many rows each filter shows, from `FilesModel.status_counts()`."""
    total = sum(counts.values())
    return {f.key: total if f.statuses is None else sum(counts.get(s, 0) for s in f.statuses) for f in STATUS_FILTERS}


class FilesFilter(QSortFilterProxyModel):
    """The rows of a FilesModel that pass the status filter and the name search."""

    def __init__(self, files: FilesModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.files = files
        self._statuses: frozenset[str] | None = None
        self._text = ""
        self.status_key = "all"
        self.setSourceModel(files)
        self.setDynamicSortFilter(True)  # a row whose status changes is checked again

    @property
    def active(self) -> bool:
        """Whether some rows may be hidden."""
        return self._statuses is not None or bool(self._text)

    def set_status(self, key: str) -> None:
        """Show only the rows of the filter `key` (see STATUS_FILTERS; "all" shows every row)."""
        chosen = FILTERS_BY_KEY[key]
        if chosen.key != self.status_key:
            self._refilter(lambda: setattr(self, "_statuses", chosen.statuses))
            self.status_key = chosen.key

    def set_search(self, text: str) -> None:
        """Show only the rows whose file name contains `text` (ignoring case and surrounding spaces)."""
        folded = text.strip().casefold()
        if folded != self._text:
            self._refilter(lambda: setattr(self, "_text", folded))

    def _refilter(self, change: Callable[[], None]) -> None:
        """Change what passes and check every row again (Qt 6.9 brought begin/endFilterChange)."""
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            change()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            change()
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self.active:
            return True
        row = self.files.row(source_row)
        if self._statuses is not None and row.status not in self._statuses:
            return False
        return not self._text or self._text in row.name.casefold()

    # -- rows of the view <-> rows of the model ---------------------------------------------------
    def source_row(self, row: int) -> int:
        """The FilesModel row shown in this proxy's `row`."""
        return self.mapToSource(self.index(row, 0)).row()

    def source_rows(self, indexes: list[QModelIndex]) -> list[int]:
        return sorted({self.mapToSource(index).row() for index in indexes if index.isValid()})

    def view_row(self, source_row: int) -> int:
        """The row of this proxy showing the FilesModel row `source_row`; -1 if it is filtered out."""
        return self.mapFromSource(self.files.index(source_row, 0)).row()
