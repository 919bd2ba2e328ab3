"""Starting a saved batch from a shortcut: `xlbatch gui --recipe FILE [--start [--exit-when-done]]`.

For a desktop shortcut to "the monthly batch": the window opens with the recipe loaded (as File > Open
recipe… does, its inputs added); with `--start` the batch starts at once, progress showing; with
`--exit-when-done` the window closes when the batch has ended, and the program's exit status is the one
`xlbatch run --recipe FILE` gives: 0 every file ok or skipped, 1 some file failed (or the runner itself
broke), 2 the batch could not start (the recipe cannot be opened, there is nothing to run, a setting is
refused), 130 cancelled (also when the window is closed during the batch).

A batch run this way leaves what the app remembers as it was: with `--exit-when-done` neither the
settings nor the file list are saved. The last session's unfinished batch is not offered on such a start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from xlbatch.cli import EXIT_CANCELLED, EXIT_FAILED, EXIT_USAGE
from xlbatch.gui import dialogs

if TYPE_CHECKING:
    from xlbatch.gui.main_window import MainWindow


@dataclass(frozen=True)
class LaunchRequest:
    """What the command line asked of the window besides its files."""

    recipe: str | None = None
    start: bool = False
    exit_when_done: bool = False


class RecipeLaunch(QObject):
    """Loads the recipe, starts its batch, and closes the window after it when asked."""

    def __init__(self, window: MainWindow, request: LaunchRequest) -> None:
        super().__init__(window)
        self.window = window
        self.request = request
        self.exit_code: int | None = None  # set when the batch has ended (or could not start)
        window.last_batch.offer_on_start = False
        if request.exit_when_done:
            window.save_settings_on_close = False
            window.last_batch.enabled = False

    def begin(self) -> bool:
        """Load and start; False if the program should end now (it could not, and was to exit when done)."""
        w = self.window
        if self.request.recipe is None:
            return True
        if not w.open_recipe(self.request.recipe):  # it said why
            return self._could_not_start()
        if not self.request.start:
            return True
        w.session.ended.connect(self._on_ended)
        if not w.start_batch():
            w.session.ended.disconnect(self._on_ended)
            dialogs.show_error(w, "The batch cannot start", w.start_hint.text())
            return self._could_not_start()
        return True

    def _could_not_start(self) -> bool:
        self.exit_code = EXIT_USAGE
        return not self.request.exit_when_done

    def _on_ended(self, report: Any) -> None:
        if report is not None:
            self.exit_code = report.exit_code
        else:
            self.exit_code = EXIT_USAGE if self.window.session.refused is not None else EXIT_FAILED
        if self.request.exit_when_done:
            QTimer.singleShot(0, self.window.close)

    def result(self, app_code: int) -> int:
        """The program's exit status once the window has closed."""
        if not self.request.exit_when_done:
            return app_code
        # Closed before the batch ended: the user stopped it.
        return EXIT_CANCELLED if self.exit_code is None else self.exit_code
