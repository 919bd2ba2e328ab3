"""File > Open recipe… and Save recipe…: a batch's set-up in a YAML file, to run again here or with
`xlbatch run --recipe FILE`.

A recipe holds what the window shows, not what the settings file filled in: Auto and No limit stay
open, so the settings file decides them wherever the recipe runs, as it does here. Its inputs are the
files and folders the user added, as long as they still give exactly the listed files. Everything is
done through the main window's parts and public methods.

A recipe that runs a script (the python task) shows the script's path, and whether it changed since the
recipe was saved, before the script first runs here (`confirm_script`): a recipe someone sent is code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog

from xlbatch.discovery import discover
from xlbatch.executors import available_backends
from xlbatch.gui import dialogs
from xlbatch.gui.formatting import plural
from xlbatch.plan import BatchSpec
from xlbatch.recipe import Recipe, load_recipe, recipe_from_spec, save_recipe, script_warning
from xlbatch.settings import SettingsError
from xlbatch.tasks import TASKS

if TYPE_CHECKING:
    from xlbatch.gui.main_window import MainWindow

RECIPE_FILTER = "xlbatch recipe (*.yaml *.yml);;All files (*)"
CANNOT_OPEN = "The recipe cannot be opened"
CANNOT_SAVE = "The recipe cannot be saved"


def recipe_problem(recipe: Recipe, name: str, offered: tuple[str, ...]) -> str | None:
    """Why this version cannot run the recipe (a task or setting it does not have), or None."""
    task = TASKS.get(recipe.task)
    if task is None:
        return f"Recipe {name} runs the task '{recipe.task}', which this version of xlbatch does not have."
    known = {p.name for p in task.params}
    unknown = [key for key in recipe.params if key not in known]
    if unknown:
        return f"Recipe {name} sets '{unknown[0]}', which the task '{task.title or task.name}' does not have."
    if recipe.backend is not None and recipe.backend not in offered:
        return f"Recipe {name} runs on '{recipe.backend}', which this version of xlbatch does not offer."
    return None


class RecipeActions:
    """Open and save recipes for `window`."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.unconfirmed: Recipe | None = None  # the opened recipe whose script has not been confirmed yet

    # -- opening -----------------------------------------------------------------------------------
    def choose_open_recipe(self) -> None:
        w = self.window
        if w.is_running():
            return
        name, _ = QFileDialog.getOpenFileName(w, "Open recipe", w.settings.folder("recipe"), RECIPE_FILTER)
        if name:
            w.settings.set_folder("recipe", str(Path(name).parent))
            self.open_recipe(name)

    def open_recipe(self, path: str | os.PathLike[str]) -> bool:
        """Load a recipe: task, its settings, file filters, run settings, output folder; add its inputs."""
        w = self.window
        if w.is_running():
            return False
        try:
            recipe = load_recipe(path)
        except SettingsError as exc:  # RecipeError, or a file that is not YAML at all
            dialogs.show_error(w, CANNOT_OPEN, str(exc))
            return False
        name = Path(path).name
        problem = recipe_problem(recipe, name, available_backends())
        if problem is not None:
            dialogs.show_error(w, CANNOT_OPEN, problem)
            return False
        task = TASKS[recipe.task]
        self.show_recipe(recipe)
        added = w.add_paths(recipe.inputs) if recipe.inputs else 0
        w.sync_state()
        self.unconfirmed = recipe if recipe.script_path() else None
        warning = script_warning(recipe)
        if warning:
            w.log_panel.log(warning, "warning")
        message = f"Opened recipe {name}: {task.title or task.name}"
        message += f", {plural(added, 'file')} added." if recipe.inputs else "; add files to run it."
        w.statusBar().showMessage(message, 8000)
        w.log_panel.log(message)
        return True

    def show_recipe(self, recipe: Recipe) -> None:
        """Show a recipe's set-up in the window (task, its settings, run settings, filters, output folder);
        its inputs are not added. The recipe must be one this version can run (`recipe_problem`)."""
        w = self.window
        w.task_panel.show_task(TASKS[recipe.task], recipe.params)
        w.run_settings.select_backend(recipe.backend or "auto")
        w.run_settings.set_workers(recipe.workers)
        w.run_settings.set_timeout(recipe.timeout)
        w.run_settings.set_toggle("verify", recipe.verify)
        w.run_settings.set_cluster(recipe.cluster, recipe.shared_storage)
        w.set_filters(recipe.include, recipe.exclude)
        if recipe.output:
            w.set_output_folder(recipe.output)

    # -- saving ------------------------------------------------------------------------------------
    def choose_save_recipe(self) -> None:
        w = self.window
        task = w.current_task_name() or "recipe"
        roots = w.files_panel.roots
        start = w.settings.folder("recipe") or (roots[0] if roots else str(Path.home()))
        name, _ = QFileDialog.getSaveFileName(w, "Save recipe", str(Path(start) / f"{task}.yaml"), RECIPE_FILTER)
        if not name:
            return
        path = Path(name)
        if path.suffix.lower() not in (".yaml", ".yml"):
            path = path.with_name(path.name + ".yaml")
        w.settings.set_folder("recipe", str(path.parent))
        self.save_recipe(path)

    def current_recipe(self) -> Recipe | None:
        """The recipe of the batch Start would run (None, after saying why, if there is none)."""
        w = self.window
        if not w.task_panel.valid:
            dialogs.show_error(w, CANNOT_SAVE, "Correct the task setting shown in red first.")
            return None
        spec = w.spec_or_explain(CANNOT_SAVE)
        if spec is None:
            return None
        recipe = self.shown_recipe(spec)
        recipe.inputs = self.recipe_inputs()
        return recipe

    def shown_recipe(self, spec: BatchSpec) -> Recipe:
        """The recipe of `spec` as the window shows it: Auto and No limit stay open (the settings file
        decides them wherever the recipe runs); its inputs are the spec's files."""
        w = self.window
        recipe = recipe_from_spec(spec)
        backend = w.current_backend()
        recipe.backend = None if backend == "auto" else backend
        recipe.timeout = float(w.run_settings.timeout_seconds()) or None
        recipe.output = recipe.output if w.run_settings.output_text() else None
        return recipe

    def recipe_inputs(self) -> list[str]:
        """The files and folders the user added, if they still give exactly the listed files (as the
        engine will find them); otherwise (some were removed from the list) the listed files."""
        w = self.window
        files = w.files.paths()
        given = [p for p in w.files_panel.inputs if Path(p).exists()]
        if given and any(Path(p).is_dir() for p in given):
            include, exclude = w.filters
            found = discover(given, include, exclude, w.run_settings.output_text() or None).files
            if {str(f.path) for f in found} == set(files):
                return given
        elif given and set(given) == set(files):
            return given
        return files

    def save_recipe(self, path: str | os.PathLike[str]) -> Path | None:
        w = self.window
        recipe = self.current_recipe()
        if recipe is None:
            return None
        try:
            saved = save_recipe(recipe, path)
        except OSError as exc:
            dialogs.show_error(w, "Saving failed", f"The recipe could not be saved to {path}: {exc}")
            return None
        w.statusBar().showMessage(f"Saved the recipe to {saved}. Run it with: xlbatch run --recipe {saved}", 8000)
        w.log_panel.log(f"Saved the recipe to {saved}.")
        return saved

    # -- its script ----------------------------------------------------------------------------------
    def confirm_script(self, spec: BatchSpec) -> bool:
        """Whether the batch may start: a script that came from the opened recipe runs once the user saw its
        path (and what changed) and said yes; a script the user picked here, or one said yes to, just runs."""
        recipe = self.unconfirmed
        task = TASKS.get(spec.task)
        name = task.script_param if task is not None else None
        script = recipe.script_path() if recipe is not None else None
        if recipe is None or script is None or not name or spec.task != recipe.task:
            return True
        if str(spec.params.get(name, "")).strip() != script:
            return True  # the user chose another script since
        if not dialogs.confirm_recipe_script(self.window, script, script_warning(recipe)):
            return False
        self.unconfirmed = None
        return True
