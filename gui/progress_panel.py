"""Under the tabs: the batch's overall progress (a bar, "12 of 53 files…", the counts so far) and, once a
batch has ended, its summary with Open output folder, Retry failed and View report.

Both are frames the style sheet colours by name (`progressPanel`, `summaryPanel`, and the summary's
`state` property: ok, warning, error).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent, QTextDocument
from PySide6.QtWidgets import QBoxLayout, QFrame, QHBoxLayout, QLabel, QProgressBar, QStyle, QVBoxLayout, QWidget

from xlbatch.gui.actions import WindowActions
from xlbatch.gui.formatting import RateMeter, format_duration, plural, progress_text
from xlbatch.gui.widgets import FlowLayout, action_button, minimum_height_changed, repolish
from xlbatch.runner import UNCHANGED


def unchanged_count(report: dict[str, Any]) -> int:
    """Files of a report skipped because they did not change since the last run."""
    return sum(1 for f in report.get("files", ()) if f.get("status") == "skipped" and f.get("reason") == UNCHANGED)


def counts_text(counts: dict[str, int]) -> str:
    """'6 done · 2 failed · 1 skipped': the file table's status counts, the empty ones left out."""
    parts = [f"{counts['done']:,} done"]
    for status in ("failed", "skipped", "unchanged", "cancelled"):
        if counts[status]:
            parts.append(f"{counts[status]:,} {status}")
    return " · ".join(parts)


class ProgressPanel(QFrame):
    """The overall progress of the running (or last) batch; counts the files finished and their rate."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progressPanel")
        self.total = 0
        self.finished = 0
        self.planned = False  # the batch's files are known (the bar then counts them)
        self._rate = RateMeter()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        row = QHBoxLayout()
        self.label = QLabel("Not started", self)
        self.label.setObjectName("progressLabel")
        self.counts_label = QLabel("", self)
        self.counts_label.setObjectName("countsLabel")
        row.addWidget(self.label, 1)
        row.addWidget(self.counts_label)
        layout.addLayout(row)
        self.bar = QProgressBar(self)
        self.bar.setObjectName("overallProgress")
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(10)
        self.bar.setAccessibleName("Overall progress")
        layout.addWidget(self.bar)

    def preparing(self, total: int) -> None:
        """A batch of `total` files is being planned: the bar is busy until its files are known."""
        self.total = total
        self.finished = 0
        self.planned = False
        self._rate = RateMeter()
        self.bar.setRange(0, 0)
        self.label.setText("Preparing…")
        self.counts_label.setText("")

    def planning_done(self, total: int) -> None:
        self.total = total
        self.planned = True
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(0)
        self.label.setText(progress_text(0, total, 0.0))

    def set_total(self, total: int) -> None:
        self.total = total
        self.bar.setRange(0, max(1, total))

    def add_finished(self, count: int) -> None:
        self.finished += count
        self._rate.add(count)
        self.bar.setValue(self.finished)

    def show_rate(self) -> None:
        """'12 of 53 files, 4.2 per second, about 10 s left'."""
        self.label.setText(progress_text(self.finished, self.total, self._rate.rate()))

    def show_counts(self, counts: dict[str, int]) -> None:
        self.counts_label.setText(counts_text(counts))

    def show_text(self, text: str) -> None:
        self.label.setText(text)

    def show_finished(self, files: int, seconds: float, cancelled: bool) -> None:
        self.bar.setValue(self.bar.maximum())
        self.label.setText(
            f"{'Cancelled' if cancelled else 'Finished'}: {plural(files, 'file')} in {format_duration(seconds)}"
        )

    def reset(self, keep_counts: bool = False) -> None:
        """Back to "Not started" (the batch did not start, or the list was cleared)."""
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.label.setText("Not started")
        if not keep_counts:
            self.counts_label.setText("")


class SummaryPanel(QFrame):
    """What the last batch did, in one line, with what to do next; hidden until a batch ends."""

    def __init__(self, actions: WindowActions, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("summaryPanel")
        # One row when there is room; in a narrow window the buttons go under the text (see resizeEvent).
        self._layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self._layout.setContentsMargins(10, 6, 8, 6)
        self._layout.setSpacing(8)
        self.icon = QLabel(self)
        self.icon.setFixedSize(22, 22)
        self.label = QLabel("", self)
        self.label.setObjectName("summaryLabel")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_output_button = action_button(self, "Open output folder", "openOutputButton", actions.open_output)
        self.retry_button = action_button(self, "Retry failed", "retryFailedButton", actions.retry)
        self.report_button = action_button(self, "View report", "reportButton", actions.report)
        self.table_button = action_button(self, "Open table", "openTableButton", actions.open_table)
        head = QHBoxLayout()
        head.setSpacing(8)
        head.addWidget(self.icon)
        head.addWidget(self.label, 1)
        # A flow of buttons: under the text in a narrow window they go on to a second line rather than
        # make the window scroll sideways (three buttons side by side are wider than 1024 px at 150%).
        self._buttons = FlowLayout(spacing=8)
        for button in self._button_widgets():
            self._buttons.addWidget(button)
        self._layout.addLayout(head, 1)
        self._layout.addLayout(self._buttons)
        self._height = 0  # the minimum height last told to the layouts above
        self.hide()

    def _button_widgets(self) -> tuple[QWidget, ...]:
        return self.table_button, self.open_output_button, self.retry_button, self.report_button

    def _one_row_width(self) -> int:
        """The width the text (unwrapped) and the buttons need side by side."""
        text = QTextDocument()
        text.setDefaultFont(self.label.font())
        text.setHtml(self.label.text())
        buttons = sum(b.sizeHint().width() + 8 for b in self._button_widgets() if not b.isHidden())
        margins = self._layout.contentsMargins()
        return int(text.idealWidth()) + self.icon.width() + 16 + buttons + margins.left() + margins.right()

    def minimumSizeHint(self) -> QSize:
        # The height the text and the lines of buttons take at this width (the column gives no more
        # than the minimum in a short window, and the panel would cover the file list).
        hint = super().minimumSizeHint()
        if self.width() > 0 and self._layout.hasHeightForWidth():
            hint.setHeight(max(hint.height(), self._layout.totalHeightForWidth(self.width())))
        return hint

    def resizeEvent(self, event: Any) -> None:
        wanted = QBoxLayout.Direction.LeftToRight
        if self.width() < self._one_row_width():
            wanted = QBoxLayout.Direction.TopToBottom
        if self._layout.direction() != wanted:
            self._layout.setDirection(wanted)
        super().resizeEvent(event)
        height = self.minimumSizeHint().height()
        if height != self._height:
            self._height = height
            minimum_height_changed(self)

    def show_report(self, data: dict[str, Any] | None) -> None:
        """Show the summary of a finished batch's report (None: the runner broke)."""
        if data is None:
            icon = QStyle.StandardPixmap.SP_MessageBoxCritical
            self.label.setText("<b>The batch stopped because of an internal error.</b> Details are in the Log.")
            self.setProperty("state", "error")
        else:
            counts = data["counts"]
            # The engine counts files skipped as unchanged among the skipped; here they are told apart.
            unchanged = unchanged_count(data)
            parts = [f"{counts['ok']:,} done", f"{counts['failed']:,} failed"]
            if counts["skipped"] - unchanged:
                parts.append(f"{counts['skipped'] - unchanged:,} skipped")
            if unchanged:
                parts.append(f"{unchanged:,} unchanged")
            if counts["cancelled"]:
                parts.append(f"{counts['cancelled']:,} cancelled")
            head = "Cancelled" if data["cancelled"] else "Finished"
            self.label.setText(
                f"<b>{head} in {format_duration(float(data['seconds']))}</b> &nbsp;·&nbsp; {', '.join(parts)}"
            )
            bad = counts["failed"] or data["cancelled"]
            icon = QStyle.StandardPixmap.SP_MessageBoxWarning if bad else QStyle.StandardPixmap.SP_DialogApplyButton
            self.setProperty("state", "warning" if bad else "ok")
            self.retry_button.setText(f"Retry {counts['failed']:,} failed" if counts["failed"] else "Retry failed")
            self.label.setToolTip(
                f"{unchanged:,} {'file was' if unchanged == 1 else 'files were'} not processed again: "
                "unchanged since the last run; the earlier results are kept. Tick Re-run everything to "
                "process every file."
                if unchanged
                else ""
            )
        table = main_table(data)
        self.table_button.setVisible(table is not None)
        if table is not None:
            self.table_button.setText(f"Open {Path(table).name}")
        self.icon.setPixmap(self.style().standardIcon(icon).pixmap(QSize(20, 20)))
        repolish(self)
        self.show()
        self.resizeEvent(QResizeEvent(self.size(), self.size()))  # the new text may need the other layout


# The batch outputs the summary bar opens first: the one table of the batch's data, then the results.
MAIN_TABLE_STEMS = ("combined", "extracted", "results", "summary", "exceptions")


def main_table(report: dict[str, Any] | None) -> str | None:
    """The batch output the summary bar's Open button opens (combined.xlsx first), if it was written."""
    outputs = [str(o) for o in (report or {}).get("outputs", []) if Path(str(o)).is_file()]
    for stem in MAIN_TABLE_STEMS:
        for output in outputs:
            if Path(output).stem.lower() == stem:
                return output
    return outputs[0] if outputs else None
