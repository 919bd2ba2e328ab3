"""The CLI's settings, recipes and cache commands, as a scheduled job uses them."""

from __future__ import annotations

import json
from pathlib import Path

import tests.corpus as corpus
from tests.e2e.test_cli import xlbatch


def test_config_path_and_show(tmp_path: Path, isolated_settings: Path) -> None:
    assert xlbatch("config", "path").stdout.strip() == str(isolated_settings)
    settings = tmp_path / "s.yaml"
    settings.write_text("parallelization: {default_backend: threads}\n", encoding="utf-8")
    shown = xlbatch("config", "show", "--config", str(settings)).stdout
    assert f'parallelization.default_backend = "threads"    # settings file {settings}' in shown
    assert "cache.enabled = true    # default" in shown


def test_an_invalid_settings_file_stops_the_run_with_exit_2(tmp_path: Path) -> None:
    settings = tmp_path / "s.yaml"
    settings.write_text("parallelization: {default_backend: turbo}\n", encoding="utf-8")
    result = xlbatch("run", "summarize", str(tmp_path), "--config", str(settings))
    assert result.returncode == 2
    assert "'parallelization.default_backend' has the value 'turbo'" in result.stderr


def test_recipe_run_with_command_line_overrides(tmp_path: Path) -> None:
    corpus.make_ledger(tmp_path / "in" / "a.xlsx", rows=5)
    corpus.make_ledger(tmp_path / "extra" / "b.xlsx", rows=5)
    recipe = tmp_path / "job.yaml"
    recipe.write_text(
        "xlbatch_recipe: 1\ntask: convert\nparams: {to: csv, delimiter: semicolon}\ninputs: [in]\n"
        "backend: threads\noutput: out\n",
        encoding="utf-8",
    )
    result = xlbatch("run", "--recipe", str(recipe), "--progress", "none")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["backend"] == "threads" and report["params"]["delimiter"] == "semicolon"
    assert ";" in (tmp_path / "out" / "a.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    # the command line wins: other inputs, another backend, another parameter value
    result = xlbatch(
        "run",
        "--recipe",
        str(recipe),
        str(tmp_path / "extra"),
        "--backend",
        "sequential",
        "--param",
        "delimiter=comma",
        "--out",
        str(tmp_path / "out2"),
        "--progress",
        "none",
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out2" / "report.json").read_text(encoding="utf-8"))
    assert report["backend"] == "sequential" and report["params"]["delimiter"] == "comma"
    assert [Path(f["path"]).name for f in report["files"]] == ["b.xlsx"]


def test_rerun_skips_unchanged_and_cache_commands(tmp_path: Path) -> None:
    for i in range(3):
        corpus.make_ledger(tmp_path / "in" / f"f{i}.xlsx", rows=5, seed=i)
    out = str(tmp_path / "out")
    assert xlbatch("run", "summarize", str(tmp_path / "in"), "--out", out, "--progress", "none").returncode == 0
    assert xlbatch("run", "summarize", str(tmp_path / "in"), "--out", out, "--progress", "none").returncode == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["counts"]["skipped"] == 3 and {f["reason"] for f in report["files"]} == {"unchanged"}
    info = xlbatch("cache", "info", "--out", out).stdout
    assert "remembered files: 3" in info and "cache: on" in info
    xlbatch("run", "summarize", str(tmp_path / "in"), "--out", out, "--progress", "none", "--force")
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["counts"]["ok"] == 3
    assert "Forgot 3" in xlbatch("cache", "clear", "--out", out).stdout
    assert "remembered files: 0" in xlbatch("cache", "info", "--out", out).stdout


def test_run_without_task_or_paths_is_usage_error() -> None:
    assert xlbatch("run").returncode == 2
    result = xlbatch("run", "summarize")
    assert result.returncode == 2 and "at least one file or folder" in result.stderr
