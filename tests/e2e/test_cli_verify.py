"""`--no-verify` and the `verify` setting on the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import tests.corpus as corpus
from tests.e2e.test_cli import xlbatch
from xlbatch import cli


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    specs: list[Any] = []
    monkeypatch.setattr(cli, "run_command", lambda spec, progress: specs.append(spec) or 0)
    return specs


def test_no_verify_turns_the_check_off(tmp_path: Path, captured: list[Any]) -> None:
    book = corpus.make_ledger(tmp_path / "in" / "a.xlsx", rows=5)
    assert cli.main(["run", "convert", str(book)]) == 0
    assert cli.main(["run", "convert", str(book), "--no-verify"]) == 0
    assert [spec.verify for spec in captured] == [True, False]


def test_the_settings_file_and_recipes_decide_unless_told(tmp_path: Path, captured: list[Any]) -> None:
    book = corpus.make_ledger(tmp_path / "in" / "a.xlsx", rows=5)
    settings = tmp_path / "s.yaml"
    settings.write_text("verify: false\n", encoding="utf-8")
    recipe = tmp_path / "job.yaml"
    recipe.write_text(f"xlbatch_recipe: 1\ntask: convert\ninputs: [{book}]\nverify: true\n", encoding="utf-8")
    assert cli.main(["run", "convert", str(book), "--config", str(settings)]) == 0
    assert cli.main(["run", "--recipe", str(recipe), "--config", str(settings)]) == 0
    assert cli.main(["run", "--recipe", str(recipe), "--no-verify"]) == 0
    assert [spec.verify for spec in captured] == [False, True, False]


def test_help_and_config_show_name_it(tmp_path: Path) -> None:
    assert "--no-verify" in xlbatch("run", "--help").stdout
    assert "verify = true    # default" in xlbatch("config", "show").stdout
    book = corpus.make_ledger(tmp_path / "in" / "a.xlsx", rows=5)
    result = xlbatch("run", "convert", str(book), "--out", str(tmp_path / "out"), "--no-verify", "--progress", "none")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "a.xlsx").is_file()
