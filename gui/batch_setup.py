"""What Start would run, read from the window's parts: the BatchSpec (the window's values over the
user's settings file, exactly as the command line builds it with `xlbatch.recipe.resolve_spec`) and the
engine's choice of backend and workers for it (`xlbatch.gui.run_choice`, over `xlbatch.executors.choice.decide`).

The settings file decides what the window leaves open: the cache, the memory guard, the worker limit,
the backend set for a task while the window says Auto, the time limit while the window says No limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xlbatch.executors import Choice
from xlbatch.gui import dialogs
from xlbatch.gui.run_choice import PROCESSES, ChoiceInputs, SettingsFile, prestart_count, preview
from xlbatch.params import InvalidParams
from xlbatch.plan import BatchSpec
from xlbatch.recipe import resolve_spec
from xlbatch.settings import Settings, SettingsError

if TYPE_CHECKING:
    from xlbatch.gui.main_window import MainWindow


class BatchSetup:
    """The batch the window's parts describe."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self._settings_file = SettingsFile()

    def engine_settings(self) -> Settings:
        """The user's settings file (re-read when it changed); raises SettingsError if it is not valid."""
        return self._settings_file.load()

    def settings_for_display(self) -> Settings:
        """The settings for hints; a bad file counts as none here (Start says what is wrong with it)."""
        try:
            return self.engine_settings()
        except SettingsError:
            return Settings()

    def choice_inputs(self, settings: Settings) -> ChoiceInputs | None:
        """What the engine's choice depends on, as the window shows it (None: no task)."""
        w = self.window
        task = w.task_panel.current_task()
        if task is None:
            return None
        limit = w.run_settings.timeout_seconds() or settings.get("parallelization.timeout_seconds")
        return ChoiceInputs(
            task=task,
            sizes=w.files_panel.runnable_sizes(),
            backend=w.run_settings.current_backend(),
            workers=w.run_settings.user_workers(),
            params=w.task_panel.values(),
            settings=settings,
            time_limit=float(limit) if limit else None,
        )

    def auto_choice(self) -> Choice | None:
        """What the engine will pick with the current files, task and settings (None: no task)."""
        inputs = self.choice_inputs(self.settings_for_display())
        if inputs is None:
            return None
        # As the engine decides it: a warm pool makes processes worth it for smaller batches.
        pools = self.window.pools
        return preview(inputs, warm_pool=lambda count: pools.warm(PROCESSES, count))

    def prestart_target(self) -> int | None:
        """How many worker processes the next batch would take from a warm pool; None if it would not
        use one (threads or sequential would run it, no files, a batch too small even for a warm pool)."""
        try:
            inputs = self.choice_inputs(self.engine_settings())
        except SettingsError:
            return None
        return None if inputs is None else prestart_count(inputs)

    def build_spec(self, paths: list[str] | None = None) -> BatchSpec:
        """The batch Start would run: the window's values over the settings file, as the CLI does it.

        Auto in the backend combo passes no backend, so a backend the settings file sets for the task
        applies; a time limit of 0 passes none, so the settings file's limit applies. Raises SettingsError
        if the settings file is not valid, InvalidParams if there is no task.
        """
        w = self.window
        run = w.run_settings
        backend = run.current_backend()
        timeout = float(run.timeout_seconds())
        include, exclude = w.filters
        return resolve_spec(
            self.engine_settings(),
            None,
            task=w.task_panel.current_task_name() or "",
            paths=w.files.paths() if paths is None else paths,
            out=run.output_text(),
            params=w.task_panel.values(),
            backend=None if backend == "auto" else backend,
            workers=run.user_workers() if backend != "sequential" else None,
            timeout=timeout if timeout > 0 else None,
            include=include,
            exclude=exclude,
            # report.tables is for the Python API; the window never reads it, and keeping a combined
            # workbook's table means reading the whole output back once more.
            keep_tables=False,
            **run.spec_fields(),
        )

    def spec_or_explain(self, title: str) -> BatchSpec | None:
        """build_spec(), or None after telling the user why it cannot be built."""
        try:
            return self.build_spec()
        except SettingsError as exc:
            dialogs.show_error(
                self.window,
                title,
                f"Your settings file has a problem: {exc} Correct it, or delete it to use the defaults.",
            )
        except InvalidParams as exc:
            dialogs.show_error(self.window, title, str(exc))
        return None
