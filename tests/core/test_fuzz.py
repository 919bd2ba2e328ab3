"""Fuzz: damaged copies of real workbooks never stop a batch, on any backend, and every error is plain.

The mutants (see `tests/fuzz_corpus.py`) reach every reader: zip and XML damage for xlsx/xlsm/xlsb/ods,
BIFF damage inside a valid OLE2 container for xls, absurd numbers and cell references in well-formed
XML. Some make python-calamine panic (a BaseException), some would make it allocate petabytes and abort
the process, some make it run for minutes. Whatever happens, on every backend: each file has exactly one
outcome, the report is written, and no error row's message is a Python or Rust message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import tests.corpus as corpus
from tests.fuzz_corpus import write_mutants
from tests.helpers import assert_invariants, realworld_folder
from xlbatch.runner import run_batch

# Real workbooks of every format with the features readers trip over: shared strings, rich text,
# inline strings, dates in both systems, merged cells, formulas, pictures, macros, CONTINUE records.
REAL_SEEDS = (
    "date.xlsx", "date.xls", "date.xlsb", "date.ods", "date_1904.xlsx", "issues.xlsx", "issues.xls", "issues.xlsb",
    "issues.ods", "richtext-namespaced.xlsx", "inlineStr_with_value.xlsx", "empty_s_attribute.xlsx",
    "merge_cells.xlsx", "merged_range.xls", "shared_formula_simple.xlsx", "table-multiple.xlsx", "vba.xlsm",
    "picture.xlsx", "biff5_write.xls", "biff5-rich-text-string.xls", "sst_continue.xls", "issue_186.xlsb",
    "any_sheets.xlsb", "covered.ods", "number_rows_repeated.ods", "rph.xlsx", "has_x000D_inline.xlsx",
    "xls_formula.xls", "capitalized_wbook_stream.xls", "malformed_format.xls",
)  # fmt: skip
# What a damaged file may honestly be called; `crashed` and `timeout` only where a worker can be killed.
DAMAGE_KINDS = {"corrupt", "not_a_workbook", "encrypted", "too_large", "empty", "unsupported"}
KILLABLE_KINDS = DAMAGE_KINDS | {"timeout", "crashed"}
# Words that only a program's own error text uses.
TECHNICAL = re.compile(r"Error\b|Exception|Traceback|panicked|Errno|\\x[0-9a-f]{2}|b'|unwrap|0x[0-9a-f]{4}")
PROCESS_TIMEOUT = 4.0


def _seeds(folder: Path) -> list[Path]:
    """Generated seeds (always there) plus real-world ones when the collection is installed."""
    seeds = [corpus.make_ledger(folder / f"ledger.{fmt}", rows=40, fmt=fmt) for fmt in ("xlsx", "xls", "ods")]
    try:
        real = realworld_folder("calamine")
    except pytest.skip.Exception:
        return seeds
    return seeds + [real / name for name in REAL_SEEDS if (real / name).is_file()]


@pytest.fixture(scope="module")
def mutants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    folder = root / "mutants"
    write_mutants(_seeds(root / "seeds"), folder, seeds=(0, 1))
    return folder


def _check(report_dir: Path, report, inputs: list[Path], allowed: set[str]) -> None:
    assert_invariants(report, inputs)
    written = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert written["counts"]["total"] == len(inputs)
    for outcome in report.files:
        assert outcome.status in ("ok", "failed"), (outcome.path, outcome.status)
        if outcome.error is None:
            continue
        error = outcome.error
        assert error.kind in allowed, (Path(outcome.path).name, error)
        assert not TECHNICAL.search(error.message), (Path(outcome.path).name, error.message)
        own_words = error.detail.split(": ", 1)[-1].strip()[:30]
        assert len(own_words) < 8 or own_words not in error.message, (Path(outcome.path).name, error)


@pytest.mark.parametrize("backend", ["sequential", "threads", "asyncio"])
def test_in_process_backends_survive_every_mutant(mutants: Path, tmp_path: Path, backend: str, frozen_inputs) -> None:
    frozen_inputs.append(mutants)
    inputs = sorted(mutants.iterdir())
    out = tmp_path / "out"
    report = run_batch(task="summarize", paths=[str(mutants)], out_dir=str(out), backend=backend, workers=2)
    # No time limit here: threads cannot be stopped, so preflight must refuse what would never finish.
    _check(out, report, inputs, DAMAGE_KINDS)


@pytest.mark.parametrize("backend", ["processes", "multiprocessing", "joblib"])
def test_process_backends_survive_every_mutant(mutants: Path, tmp_path: Path, backend: str, frozen_inputs) -> None:
    frozen_inputs.append(mutants)
    inputs = sorted(mutants.iterdir())
    out = tmp_path / "out"
    report = run_batch(
        task="summarize", paths=[str(mutants)], out_dir=str(out), backend=backend, workers=2, timeout=PROCESS_TIMEOUT
    )
    _check(out, report, inputs, KILLABLE_KINDS)
    for outcome in report.files:  # nothing ran much past its limit: a slow reader was stopped
        assert outcome.seconds < PROCESS_TIMEOUT + 5 or outcome.error is not None


def test_convert_writes_nothing_for_a_damaged_file(mutants: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = run_batch(task="convert", paths=[str(mutants)], out_dir=str(out), backend="threads", workers=2)
    _check(out, report, sorted(mutants.iterdir()), DAMAGE_KINDS)
    listed = {str(Path(p).resolve()) for o in report.files for p in o.outputs}
    for outcome in report.files:
        assert (outcome.status == "ok") == bool(outcome.outputs), Path(outcome.path).name
    assert {str(p.resolve()) for p in out.rglob("*.xlsx")} == listed
