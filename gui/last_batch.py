"""The file list and the running batch, kept on disk so that a restart or a crash loses neither.

The app keeps one small JSON file (`STATE_FILE` in the user's app data folder: %LOCALAPPDATA%\\xlbatch\\
xlbatch on Windows) holding
  - the file list as it is shown (path, size, skip reason), the folders the files came from and what the
    user added: written a second after the list last changed, at the start and end of every batch, and
    when the window closes;
  - while a batch runs, that batch (its BatchSpec, and the set-up the window showed for it as a recipe):
    written when it starts, removed when it ends, whatever the end (finished, cancelled, refused).

On start, a batch still in the file means the app ended while it ran: closed during the batch, crashed,
or killed. The app then asks "Restore the last batch (300 files)?"; yes puts the list and the batch's
set-up back and runs the batch again with resume, so the files it had finished are kept (the journal in
the output folder knows them) and only the others run; no starts with an empty list. Without a batch in
the file, the list simply comes back as it was. A file that cannot be read is ignored: the app always
starts.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QStandardPaths, QTimer

from xlbatch.atomic import atomic_path
from xlbatch.executors import available_backends
from xlbatch.gui import dialogs
from xlbatch.gui.formatting import plural
from xlbatch.gui.recipes import recipe_problem
from xlbatch.plan import BatchSpec
from xlbatch.recipe import Recipe
from xlbatch.tasks import TASKS

if TYPE_CHECKING:
    from xlbatch.gui.main_window import MainWindow

STATE_FILE = "last-session.json"
STATE_VERSION = 1
SAVE_DELAY_MS = 1000  # a burst of changes (a folder being added, rows removed) is written once

Entry = tuple[str, int, str | None]


def state_folder() -> Path:
    """The user's app data folder (tests point it elsewhere)."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation))


@dataclass
class SavedState:
    files: list[Entry] = field(default_factory=list)
    roots: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    batch: dict[str, Any] | None = None  # {"spec": BatchSpec fields, "recipe": Recipe.to_dict()}

    def to_dict(self) -> dict[str, Any]:
        return {"version": STATE_VERSION, **dataclasses.asdict(self)}


def read_state(path: Path) -> SavedState | None:
    """The state kept in `path`; None when there is none or it cannot be used."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != STATE_VERSION:
            return None
        files = [(str(p), int(size), None if skip is None else str(skip)) for p, size, skip in data["files"]]
        batch = data.get("batch")
        return SavedState(files, list(data["roots"]), list(data["inputs"]), batch if isinstance(batch, dict) else None)
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def write_state(path: Path, state: SavedState) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(state.to_dict(), ensure_ascii=False), encoding="utf-8")


def spec_from(data: dict[str, Any]) -> BatchSpec:
    """A BatchSpec from its saved fields (fields this version does not know are left out)."""
    known = {f.name for f in dataclasses.fields(BatchSpec)}
    return BatchSpec(**{key: value for key, value in data.items() if key in known})


class LastBatch(QObject):
    """Keeps the window's list and running batch on disk, and offers them back on start (`offer`)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.enabled = True  # False: neither read nor write (a screenshot, a batch run from a shortcut)
        self.offer_on_start = True
        self._batch: dict[str, Any] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self.save)
        window.files_panel.changed.connect(self._timer.start)
        window.session.started.connect(self._on_started)
        window.session.ended.connect(self._on_ended)
        window.installEventFilter(self)
        QTimer.singleShot(0, self._start_up)

    def path(self) -> Path:
        return state_folder() / STATE_FILE

    def save(self) -> None:
        self._timer.stop()
        if not self.enabled:
            return
        panel = self.window.files_panel
        state = SavedState(self.window.files.entries(), list(panel.roots), list(panel.inputs), self._batch)
        try:
            write_state(self.path(), state)
        except OSError as exc:  # a full or read-only disk must not stop the app
            self.window.log_panel.log(f"The file list could not be kept for next time: {exc}", "warning")

    def _on_started(self) -> None:
        spec = self.window.last_spec
        if spec is not None:
            recipe = self.window.recipes.shown_recipe(spec)
            self._batch = {"spec": dataclasses.asdict(spec), "recipe": recipe.to_dict()}
        self.save()

    def _on_ended(self, _report: Any) -> None:
        if not self.window.isVisible():
            return  # the window was closed during the batch: it stays unfinished for the next start
        self._batch = None
        self.save()

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close and self._timer.isActive():
            self.save()
        return super().eventFilter(watched, event)

    # -- on start ---------------------------------------------------------------------------------
    def _start_up(self) -> None:
        if self.enabled and self.offer_on_start:
            self.offer()

    def offer(self) -> bool:
        """Put back what the last session left: its list, and an unfinished batch if the user wants it
        continued. Returns whether a batch was started. Does nothing if the window already has files."""
        w = self.window
        state = read_state(self.path())
        if state is None or w.files.rowCount() or w.is_running():
            return False
        if state.batch is None:
            if state.files:
                w.files_panel.restore_list(state.files, state.roots, state.inputs)
                back = f"The list of your last session is back: {plural(len(state.files), 'file')}."
                w.statusBar().showMessage(back, 8000)
            return False
        try:
            spec = spec_from(state.batch["spec"])
            recipe = Recipe(**{k: v for k, v in state.batch["recipe"].items() if k != "xlbatch_recipe"})
        except (TypeError, KeyError):
            return False
        if not dialogs.ask_restore_batch(w, len(spec.paths), self._describe(spec)):
            self._batch = None
            write_state(self.path(), SavedState())
            return False
        return self._continue(state, spec, recipe)

    def _describe(self, spec: BatchSpec) -> str:
        task = TASKS.get(spec.task)
        title = (task.title or task.name) if task else spec.task
        return (
            f"xlbatch closed before the batch '{title}' into {spec.out_dir} had finished.\n\n"
            "Restore puts the files and the settings back and continues the batch: the files it had "
            "finished are kept, the others run."
        )

    def _continue(self, state: SavedState, spec: BatchSpec, recipe: Recipe) -> bool:
        w = self.window
        w.files_panel.restore_list(state.files, state.roots, state.inputs)
        problem = recipe_problem(recipe, "of the last batch", available_backends())
        if problem is not None:
            dialogs.show_error(w, "The last batch cannot continue", problem)
            return False
        w.recipes.show_recipe(recipe)
        rows = [r for r in (w.files.row_of(p) for p in spec.paths) if r >= 0]
        w.log_panel.log(f"Continuing the last batch: {plural(len(spec.paths), 'file')}.")
        return w.start_batch(dataclasses.replace(spec, resume=True), rows)
