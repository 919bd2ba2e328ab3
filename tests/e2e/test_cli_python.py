"""The python task from the command line: a bad script is refused on stderr with exit 2 before any file
runs, a recipe's changed script is named on stderr, and pandas stays out of every other task's start-up."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.python_kit import TOTALS, sales_folder, write_script
from tests.e2e.test_cli import REPO, xlbatch


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        ("def process(df, context):\n    total = df['Amount'].sum(\n", "syntax error at line 2"),
        ("def process(df):\n    return df\n", "process() must take two arguments"),
    ],
)
def test_a_bad_script_exits_2_and_runs_nothing(tmp_path: Path, body: str, phrase: str) -> None:
    sales_folder(tmp_path / "in", 2)
    script = write_script(tmp_path, body)
    result = xlbatch("run", "python", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                     "--param", f"script={script}", "--progress", "none")
    assert result.returncode == 2
    assert phrase in result.stderr and "script.py" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_script_runs_and_its_digest_is_in_the_report(tmp_path: Path) -> None:
    sales_folder(tmp_path / "in", 3)
    script = write_script(tmp_path, TOTALS)
    result = xlbatch("run", "python", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                     "--param", f"script={script}", "--param", "output=combined", "--progress", "none")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["params"]["script_sha256"] == hashlib.sha256(script.read_bytes()).hexdigest()
    assert report["outputs"] == [str(tmp_path / "out" / "combined.xlsx")]


def test_a_recipe_whose_script_changed_is_named_on_stderr(tmp_path: Path) -> None:
    sales_folder(tmp_path / "in", 1)
    script = write_script(tmp_path, TOTALS)
    digest = hashlib.sha256(script.read_bytes()).hexdigest()
    recipe = tmp_path / "job.yaml"
    recipe.write_text(
        f"xlbatch_recipe: 1\ntask: python\nparams: {{script: script.py}}\ninputs: [in]\noutput: out\n"
        f"script_sha256: {digest}\n",
        encoding="utf-8",
    )
    same = xlbatch("run", "--recipe", str(recipe), "--progress", "none")
    assert same.returncode == 0, same.stderr
    assert "changed since the recipe was saved" not in same.stderr
    write_script(tmp_path, TOTALS + "    # edited by someone\n")
    changed = xlbatch("run", "--recipe", str(recipe), "--progress", "none")
    assert changed.returncode == 0, changed.stderr  # a warning, not a refusal
    assert f"warning: The script {script.resolve()} changed since the recipe was saved" in changed.stderr


def test_pandas_is_not_imported_by_the_command_line_or_other_tasks(tmp_path: Path) -> None:
    sales_folder(tmp_path / "in", 2)
    code = (
        "import sys\n"
        "from xlbatch.cli import main\n"
        "import xlbatch.tasks, xlbatch.report, xlbatch.recipe\n"
        "for task in ('summarize', 'combine', 'validate'):\n"
        f"    main(['run', task, {str(tmp_path / 'in')!r}, '--out', {str(tmp_path)!r} + '/' + task,\n"
        "          '--backend', 'sequential', '--progress', 'none'])\n"
        "print(sorted(m for m in ('pandas', 'numpy') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "combine" / "combined.xlsx").is_file()
