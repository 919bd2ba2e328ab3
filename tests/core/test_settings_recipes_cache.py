"""Settings validation and precedence, recipes, and the cache of unchanged files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import openpyxl
import pytest

import tests.corpus as corpus
from xlbatch.recipe import Recipe, RecipeError, load_recipe, recipe_from_spec, resolve_spec, save_recipe
from xlbatch.runner import UNCHANGED, run_batch
from xlbatch.settings import SettingsError, load_settings, save_setting


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- settings ------------------------------------------------------------------------------------
def test_defaults_when_there_is_no_file(tmp_path: Path) -> None:
    settings = load_settings()
    assert settings.get("parallelization.default_backend") == "auto"
    assert settings.origin("cache.enabled") == "default"
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "missing.yaml")


def test_file_values_override_defaults_and_say_where_they_came_from(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.yaml",
        """
parallelization:
  default_backend: threads
  max_workers: {cpu_bound: 4, io_bound: 8}
  backends: {combine: processes, convert: threads}
  timeout_seconds: 600
cache: {enabled: false, location: default}
""",
    )
    settings = load_settings(path)
    assert settings.backend_for("combine") == ("processes", f"settings file {path}")
    assert settings.backend_for("summarize")[0] == "threads"
    assert settings.max_workers("cpu") == 4 and settings.max_workers("io") == 8
    assert settings.get("cache.enabled") is False and settings.get("cache.max_size_mb") == 1024
    flat = {key: (value, origin) for key, value, origin in settings.flat()}
    assert flat["parallelization.timeout_seconds"] == (600, f"settings file {path}")
    assert flat["memory_guard_mb"] == (400, "default")


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("paralelization: {}", "Unknown setting 'paralelization'"),
        ("parallelization: {default_backend: cloud}", "'parallelization.default_backend' has the value 'cloud'"),
        ("parallelization: {max_workers: {cpu_bound: 0}}", "at least 1"),
        ("parallelization: {max_workers: {gpu: 2}}", "Unknown setting 'parallelization.max_workers.gpu'"),
        ("parallelization: {backends: {combine: fast}}", "'parallelization.backends.combine'"),
        ("cache: {enabled: maybe}", "true or false"),
        ("memory_guard_mb: -5", "megabytes"),
        ("cache: [1, 2]", "must be a mapping"),
        ("parallelization: {timeout_seconds: 0}", "above 0"),
        ("a: [unclosed", "not valid YAML"),
    ],
)
def test_invalid_settings_name_the_key_the_value_and_what_is_allowed(tmp_path: Path, text: str, phrase: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path / "s.yaml", text))
    assert phrase in str(caught.value)


def test_save_setting_validates_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    save_setting("parallelization.backends.combine", "processes", path)
    assert load_settings(path).backend_for("combine")[0] == "processes"
    with pytest.raises(SettingsError):
        save_setting("parallelization.backends.combine", "warp", path)
    assert load_settings(path).backend_for("combine")[0] == "processes"


# --- precedence: defaults < settings file < recipe < command line ----------------------------------
def test_precedence_of_every_layer(tmp_path: Path) -> None:
    settings_path = write(
        tmp_path / "s.yaml",
        """
parallelization: {default_backend: threads, timeout_seconds: 100, max_workers: {cpu_bound: 3}}
memory_guard_mb: 123
""",
    )
    settings = load_settings(settings_path)
    assert resolve_spec(settings, task="summarize", paths=["x"]).backend == "threads"
    spec = resolve_spec(settings, task="summarize", paths=["x"])
    assert (spec.timeout, spec.memory_floor_mb, spec.max_workers, spec.cache) == (100, 123, 3, True)
    recipe = Recipe(
        task="convert",
        params={"to": "csv", "delimiter": "semicolon"},
        backend="processes",
        timeout=50,
        output=str(tmp_path / "r-out"),
    )
    spec = resolve_spec(settings, recipe, paths=["x"])
    assert (spec.task, spec.backend, spec.timeout, spec.out_dir) == (
        "convert",
        "processes",
        50,
        str(tmp_path / "r-out"),
    )
    spec = resolve_spec(
        settings,
        recipe,
        paths=["x"],
        backend="sequential",
        timeout=7,
        params={"to": "xlsx"},
        out=str(tmp_path / "cli-out"),
    )
    assert (spec.backend, spec.timeout, spec.out_dir) == ("sequential", 7, str(tmp_path / "cli-out"))
    assert spec.params == {"to": "xlsx", "delimiter": "semicolon"}


# --- recipes -------------------------------------------------------------------------------------
def test_recipe_round_trip_with_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "jobs" / "monthly").mkdir(parents=True)
    path = write(
        tmp_path / "jobs" / "r.yaml",
        """
xlbatch_recipe: 1
task: combine
params: {sheet: Sales}
inputs: [monthly]
include: ["*.xlsx"]
output: ../out
""",
    )
    recipe = load_recipe(path)
    assert recipe.inputs == [str((tmp_path / "jobs" / "monthly").resolve())]
    assert recipe.output == str((tmp_path / "out").resolve())
    saved = save_recipe(recipe, tmp_path / "copy.yaml")
    assert load_recipe(saved) == recipe


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("task: summarize", "no 'xlbatch_recipe' version"),
        ("xlbatch_recipe: 99\ntask: summarize", "newer xlbatch"),
        ("xlbatch_recipe: 1\ntask: summarize\ncolour: red", "unknown key 'colour'"),
        ("xlbatch_recipe: 1\nparams: {}", "which task"),
        ("xlbatch_recipe: 1\ntask: summarize\nworkers: -1", "'workers'"),
        ("xlbatch_recipe: 1\ntask: summarize\nbackend: magic", "'backend'"),
    ],
)
def test_bad_recipes_get_a_clear_message(tmp_path: Path, text: str, phrase: str) -> None:
    with pytest.raises(RecipeError) as caught:
        load_recipe(write(tmp_path / "r.yaml", text))
    assert phrase in str(caught.value)


def test_recipe_from_spec_reproduces_the_batch(tmp_path: Path) -> None:
    settings = load_settings()
    spec = resolve_spec(
        settings,
        task="convert",
        paths=[str(tmp_path)],
        params={"to": "csv"},
        backend="threads",
        out=str(tmp_path / "o"),
    )
    recipe = load_recipe(save_recipe(recipe_from_spec(spec), tmp_path / "r.yaml"))
    again = resolve_spec(settings, recipe)
    for field in ("task", "params", "backend", "workers", "timeout", "include", "exclude"):
        assert getattr(again, field) == getattr(spec, field)
    assert Path(again.out_dir) == Path(spec.out_dir).resolve() and again.paths == [str(tmp_path.resolve())]


# --- the cache -----------------------------------------------------------------------------------
@pytest.fixture
def ledgers(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    for i in range(5):
        corpus.make_ledger(folder / f"l{i}.xlsx", rows=20, seed=i)
    return folder


def _run(folder: Path, out: Path, **kw):
    return run_batch(task="summarize", paths=[str(folder)], out_dir=str(out), cache=True, **kw)


def test_unchanged_files_are_skipped_and_still_reduced(tmp_path: Path, ledgers: Path) -> None:
    out = tmp_path / "out"
    first = _run(ledgers, out)
    assert first.counts["ok"] == 5
    summary_mtime = (out / "summary.xlsx").stat().st_mtime_ns
    second = _run(ledgers, out)
    assert second.counts["skipped"] == 5 and all(f.reason == UNCHANGED for f in second.files)
    assert [f.result for f in second.files] == [f.result for f in first.files]  # cached per-file results
    assert second.outputs == [str(out / "summary.xlsx")]
    assert (out / "summary.xlsx").stat().st_mtime_ns == summary_mtime  # nothing changed: output kept
    # change one file: only it is processed, and the summary includes every file again
    corpus.make_ledger(ledgers / "l2.xlsx", rows=35, seed=99)
    third = _run(ledgers, out)
    by_name = {Path(f.path).name: f for f in third.files}
    assert by_name["l2.xlsx"].status == "ok" and by_name["l2.xlsx"].reason is None
    assert all(by_name[f"l{i}.xlsx"].reason == UNCHANGED for i in (0, 1, 3, 4))
    rows = list(openpyxl.load_workbook(out / "summary.xlsx", read_only=True)["Files"].iter_rows(values_only=True))
    assert len(rows) == 6 and {r[0] for r in rows[1:]} == {f"l{i}.xlsx" for i in range(5)}


def test_a_touched_but_identical_file_is_still_unchanged(tmp_path: Path, ledgers: Path) -> None:
    out = tmp_path / "out"
    _run(ledgers, out)
    later = time.time() + 10
    os.utime(ledgers / "l0.xlsx", (later, later))  # content identified by hash, not by time alone
    assert _run(ledgers, out).files[0].reason == UNCHANGED


@pytest.mark.parametrize("change", ["params", "version", "force", "output_deleted"])
def test_cache_invalidation(tmp_path: Path, ledgers: Path, change: str, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    run_batch(task="convert", paths=[str(ledgers)], out_dir=str(out), cache=True, params={"to": "csv"})
    kwargs: dict = {"params": {"to": "csv"}}
    if change == "params":
        kwargs["params"] = {"to": "csv", "delimiter": "semicolon"}
    elif change == "version":
        from xlbatch.tasks.convert import Convert

        monkeypatch.setattr(Convert, "version", Convert.version + 1)
    elif change == "force":
        kwargs["force"] = True
    else:
        next(out.glob("*.csv")).unlink()
    report = run_batch(task="convert", paths=[str(ledgers)], out_dir=str(out), cache=True, **kwargs)
    redone = [f for f in report.files if f.status == "ok"]
    assert len(redone) == (1 if change == "output_deleted" else 5)


def test_combine_uses_cached_parts_for_unchanged_files(tmp_path: Path, ledgers: Path) -> None:
    out = tmp_path / "out"
    run_batch(task="combine", paths=[str(ledgers)], out_dir=str(out), cache=True)
    corpus.make_ledger(ledgers / "l4.xlsx", rows=7, seed=5)
    report = run_batch(task="combine", paths=[str(ledgers)], out_dir=str(out), cache=True)
    assert sum(f.reason == UNCHANGED for f in report.files) == 4
    rows = list(openpyxl.load_workbook(out / "combined.xlsx", read_only=True).active.iter_rows(values_only=True))
    assert len(rows) - 1 == 4 * 20 + 7  # every file's data rows, cached or new


def test_cache_size_limit_evicts_the_oldest(tmp_path: Path, ledgers: Path) -> None:
    out = tmp_path / "out"
    _run(ledgers, out)
    report = _run(ledgers, out, cache_max_mb=0.004)  # room for a couple of entries only
    assert 0 < sum(f.reason == UNCHANGED for f in report.files) < 5
    assert any("oldest" in n for n in report.notices)
