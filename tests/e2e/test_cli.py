"""The CLI contract: commands, report.json schema, progress formats and exit codes (0, 1, 2, 130)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import tests.corpus as corpus

REPO = Path(__file__).resolve().parents[2]
# Runs the real CLI in a child process, with the test-only tasks registered.
LAUNCH = "import sys, tests.faulty_tasks; from xlbatch.gui.entry import main; sys.exit(main(sys.argv[1:]))"


def xlbatch(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        encoding="utf-8",
    )


@pytest.fixture
def inputs(tmp_path: Path, frozen_inputs: list[Path]) -> Path:
    folder = tmp_path / "in"
    for i in range(3):
        corpus.make_ledger(folder / f"ledger-{i}.xlsx", rows=20, seed=i)
    frozen_inputs.append(folder)
    return folder


def test_run_writes_the_report_with_the_contracted_schema(tmp_path: Path, inputs: Path) -> None:
    out = tmp_path / "out"
    result = xlbatch("run", "summarize", str(inputs), "--out", str(out), "--progress", "none")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    for key in (
        "schema",
        "task",
        "params",
        "backend",
        "backend_reason",
        "workers",
        "started",
        "finished",
        "seconds",
        "counts",
        "outputs",
        "files",
    ):
        assert key in report
    assert report["schema"] == 1 and report["task"] == "summarize"
    assert report["counts"] == {"total": 3, "ok": 3, "failed": 0, "skipped": 0, "cancelled": 0}
    assert report["outputs"] == [str(out / "summary.xlsx")]
    for entry in report["files"]:
        assert Path(entry["path"]).is_absolute()
        assert entry["status"] == "ok" and entry["error"] is None
        assert set(entry) >= {"path", "status", "seconds", "outputs", "warnings", "error", "result"}
        sheet = entry["result"]["sheets"][0]
        assert set(sheet) >= {"name", "rows", "columns", "non_empty_cells", "numeric_cells", "numeric_sum"}
        assert sheet["rows"] == 21


def test_a_failed_file_gives_exit_1_and_an_error_row(tmp_path: Path, inputs: Path) -> None:
    bad = tmp_path / "more"
    bad.mkdir()
    corpus.make_encrypted_xlsx(bad)
    result = xlbatch(
        "run", "summarize", str(inputs), str(bad), "--out", str(tmp_path / "out"), "--report", str(tmp_path / "r.json")
    )
    assert result.returncode == 1
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    failed = [f for f in report["files"] if f["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"]["kind"] == "encrypted"
    assert "password-protected" in result.stderr  # the bar mode names the failure in plain words


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["run", "no-such-task", "."], "Unknown task 'no-such-task'"),
        (["run", "summarize", ".", "--param", "colour=red"], "Unknown parameter 'colour'"),
        (["run", "convert", ".", "--param", "to=pdf"], "Parameter 'to' must be one of"),
        (["run", "summarize", ".", "--workers", "0"], "Workers must be at least 1"),
        (["run", "summarize", ".", "--backend", "cloud"], "invalid choice"),
        (["run", "summarize", ".", "--param", "novalue"], "NAME=VALUE"),
    ],
)
def test_bad_usage_exits_2_and_runs_nothing(tmp_path: Path, args: list[str], phrase: str) -> None:
    result = xlbatch(*[a if a != "." else str(tmp_path) for a in args], "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert phrase in result.stderr
    assert not (tmp_path / "out" / "report.json").exists()


def test_jsonl_progress_is_one_event_per_line(tmp_path: Path, inputs: Path) -> None:
    result = xlbatch(
        "run",
        "summarize",
        str(inputs),
        "--out",
        str(tmp_path / "out"),
        "--progress",
        "jsonl",
        "--backend",
        "processes",
        "--workers",
        "2",
    )
    assert result.returncode == 0
    events = [json.loads(line) for line in result.stdout.splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "BatchStarted" and names[-1] == "BatchFinished"
    assert names.count("FileFinished") == 3 and names.count("FileStarted") == 3
    assert all(e["status"] == "ok" for e in events if e["event"] == "FileFinished")


def test_tasks_json_lists_every_task_with_parameters() -> None:
    result = xlbatch("tasks", "--json")
    tasks = {t["name"]: t for t in json.loads(result.stdout)}
    assert {"summarize", "convert", "combine", "split", "clean", "extract", "find_replace", "validate"} <= set(tasks)
    to = next(p for p in tasks["convert"]["params"] if p["name"] == "to")
    assert to["type"] == "choice" and set(to["choices"]) == {"xlsx", "csv"}
    for task in tasks.values():
        assert task["title"] and task["description"] and task["kind"] in ("cpu", "io")


def test_demo_summarizes_the_bundled_samples(tmp_path: Path) -> None:
    result = xlbatch("demo", "--out", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "demo" / "report.json").read_text(encoding="utf-8"))
    assert report["counts"]["ok"] >= 5 and report["counts"]["failed"] == 0
    assert (tmp_path / "demo" / "summary.xlsx").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")
@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_cancels_with_exit_130(tmp_path: Path, presses: int) -> None:
    folder = tmp_path / "in"
    for i in range(6):
        corpus.make_ledger(folder / f"f{i}.xlsx", rows=5, seed=i)
    out = tmp_path / "out"
    seconds = "1.5" if presses == 1 else "60"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LAUNCH,
            "run",
            "sleepy",
            str(folder),
            "--out",
            str(out),
            "--workers",
            "2",
            "--backend",
            "processes",
            "--param",
            f"seconds={seconds}",
            "--progress",
            "jsonl",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    assert child.stdout is not None
    for line in child.stdout:  # wait until files are really running
        if json.loads(line)["event"] == "FileStarted":
            break
    for _ in range(presses):
        child.send_signal(signal.SIGINT)
        time.sleep(0.3)
    child.communicate(timeout=60)
    assert child.returncode == 130
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    counts = report["counts"]
    assert report["cancelled"] is True and counts["cancelled"] >= 1
    assert counts["ok"] + counts["cancelled"] == 6
    if presses == 2:
        assert counts["ok"] == 0  # stop now: the 60-second files were stopped, not finished
    assert not [p for p in out.rglob("*") if ".xlbatch-tmp-" in p.name]


def test_python_m_core_runs_the_cli(tmp_path: Path, inputs: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "run",
            "summarize",
            str(inputs),
            "--out",
            str(tmp_path / "out"),
            "--progress",
            "none",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
