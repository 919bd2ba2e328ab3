"""The default progress display (`--progress bar`): on a terminal a live bar with the running files by name
and failures above it; on a pipe or a log file plain lines only, without animation or repeats; a
summary table at the end. (`--progress jsonl` and `none` are pinned in test_cli.py.)"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import tests.corpus as corpus
from xlbatch import cli_progress
from xlbatch.cli_progress import RUNNING_SHOWN, BarProgress
from xlbatch.errors import FileError
from xlbatch.events import BatchFinished, BatchStarted, FileFinished, FileProgress, FileStarted, Notice
from xlbatch.outcome import FAILED, OK, FileOutcome
from xlbatch.report import Report

REPO = Path(__file__).resolve().parents[2]


def test_on_a_pipe_the_bar_writes_plain_lines_once(tmp_path: Path, frozen_inputs: list[Path]) -> None:
    folder = tmp_path / "in"
    for i in range(12):
        corpus.make_ledger(folder / f"ledger-{i}.xlsx", rows=20, seed=i)
    corpus.make_encrypted_xlsx(folder)
    frozen_inputs.append(folder)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "xlbatch", "run", "summarize", str(folder), "--out", str(out), "--workers", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == 1
    err = done.stderr
    assert "\x1b" not in err and "\r" not in err  # no cursor movement, no colour codes in a log
    lines = err.splitlines()
    assert lines[0].startswith("summarize: 13 file(s) on ")
    failed = [line for line in lines if "failed:" in line]
    assert len(failed) == 1 and "protected.xlsx" in failed[0] and "password-protected" in failed[0]
    assert sum("13/13 files" in line for line in lines) == 1  # the bar once, at the end, not per file
    assert any(line.startswith("Done in ") for line in lines)
    counts = lines[[i for i, line in enumerate(lines) if "failed" in line.split() and "ok" in line.split()][0] + 2]
    assert counts.split() == ["12", "1", "0", "0", "13"]  # ok, failed, skipped, cancelled, total
    assert lines[-2:] == [f"Output: {out / 'summary.xlsx'}", f"Report: {out / 'report.json'}"]
    assert len(lines) < 12
    assert done.stdout == ""


def terminal() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=True, width=140, color_system=None, soft_wrap=True), buffer


def started(total: int) -> BatchStarted:
    return BatchStarted(task="convert", backend="threads", backend_reason="chosen", workers=2, total=total, out_dir="o")


def test_on_a_terminal_running_files_have_lines_and_failures_print_above(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(cli_progress, "STATUS_EVERY", 0.0)  # status lines are for logs, never a terminal
    console, buffer = terminal()
    bar = BarProgress(buffer, console)
    bar(started(3))
    bar(FileStarted(0, "/in/first [draft].xlsx"))
    bar(FileStarted(1, "/in/second.xlsx"))
    bar(FileProgress(0, "/in/first [draft].xlsx", 0.5, "sheet Sales"))
    bar.live.refresh()
    assert bar.batch.tasks[0].completed == 0.5  # the bar moves with the running files' shares
    frame = buffer.getvalue()
    assert "first [draft].xlsx" in frame and "second.xlsx" in frame and "sheet Sales" in frame
    assert "\x1b[" in frame  # drawn in place
    error = FileError("encrypted", "This workbook is password-protected.")
    bar(FileFinished(1, "/in/second.xlsx", FileOutcome(1, "/in/second.xlsx", FAILED, error=error)))
    bar(Notice("warning", "Waiting for free memory."))
    bar(FileFinished(0, "/in/first [draft].xlsx", FileOutcome(0, "/in/first [draft].xlsx", OK)))
    bar(FileStarted(2, "/in/third.xlsx"))
    bar(FileFinished(2, "/in/third.xlsx", FileOutcome(2, "/in/third.xlsx", OK)))
    files = [FileOutcome(0, "a", OK), FileOutcome(1, "b", FAILED, error=error), FileOutcome(2, "c", OK)]
    report = Report("convert", {}, "threads", "chosen", 2, 0.0, 2.5, files, outputs=[str(tmp_path / "x.xlsx")])
    bar(BatchFinished(report))
    bar.summary(report, str(tmp_path / "report.json"))
    text = buffer.getvalue()
    assert text.count("failed: /in/second.xlsx: This workbook is password-protected.") == 1
    assert "Waiting for free memory." in text and "3/3 files" in text and "1 failed" in text
    assert "Done in 2.5 s" in text and f"Report: {tmp_path / 'report.json'}" in text
    assert not bar.live.is_started and not bar.files.tasks  # nothing left drawing or listed as running
    assert "files done" not in text


def test_past_the_shown_lines_the_other_running_files_are_counted() -> None:
    console, buffer = terminal()
    bar = BarProgress(buffer, console)
    extra = 3
    bar(started(RUNNING_SHOWN + extra))
    for i in range(RUNNING_SHOWN + extra):
        bar(FileStarted(i, f"/in/f{i}.xlsx"))
    assert len(bar.files.tasks) == RUNNING_SHOWN and bar.more.text == f"  and {extra} more running"
    bar(FileFinished(0, "/in/f0.xlsx", FileOutcome(0, "/in/f0.xlsx", OK)))  # a line frees up for a waiting file
    assert len(bar.files.tasks) == RUNNING_SHOWN and bar.more.text == f"  and {extra - 1} more running"
    assert f"f{RUNNING_SHOWN}.xlsx" in [task.description for task in bar.files.tasks]
    bar.stop()


def test_off_a_terminal_a_status_line_comes_now_and_then(monkeypatch: pytest.MonkeyPatch) -> None:
    buffer = io.StringIO()
    bar = BarProgress(buffer)
    assert not bar.console.is_terminal
    monkeypatch.setattr(cli_progress, "STATUS_EVERY", 0.0)
    bar(started(2))
    bar(FileStarted(0, "/in/a.xlsx"))
    bar(FileFinished(0, "/in/a.xlsx", FileOutcome(0, "/in/a.xlsx", OK)))
    bar.stop()
    assert "1 of 2 files done" in buffer.getvalue()
    monkeypatch.setattr(cli_progress, "STATUS_EVERY", 3600.0)
    quiet = io.StringIO()
    bar = BarProgress(quiet)
    bar(started(2))
    for fraction in (0.1, 0.5, 0.9):
        bar(FileProgress(0, "/in/a.xlsx", fraction))
    bar.stop()
    assert "files done" not in quiet.getvalue()
