"""Smoke test of the built programs (xlbatch-cli and xlbatch), natively or under Wine.

    python packaging/ci/smoke.py --cli DIST/xlbatch/xlbatch-cli --gui DIST/xlbatch/xlbatch [--window-time]
    python packaging/ci/smoke.py --wine-run .../wine-run.sh --cli ...xlbatch-cli.exe --gui ...xlbatch.exe

What it checks, each in a fresh folder, every program call bounded by a time limit (the workbooks come
from the test suite's generators in tests/corpus.py):
  - `--version` prints the version in pyproject.toml; `tasks --json` lists every built-in task;
  - `demo` summarizes the bundled samples (the resources were bundled and are found in the bundle);
  - `run summarize` on generated ledgers plus a truncated, a password-protected and a zip-bomb
    workbook, on the `processes` and the `multiprocessing` backends with 2 workers: exit 1, every
    ledger ok with the row count and numeric sum computed here from the generator's own table, each
    hostile file failed with its error kind, the report naming the backend, files started in worker
    processes, and never more than 1 + 2 workers (+ multiprocessing's resource tracker on POSIX,
    + the unpacking parent of a single-file program) copies of the program at once (no launch loop);
  - a file that runs past `--timeout` has its worker process killed (kind "timeout") while the other
    files finish: a worker really dies inside the frozen program and the batch survives it;
  - the same batch on `--backend joblib` (loky's workers start through packaging/loky_frozen.py), and a
    joblib worker crash isolated to its file: each time the big file starts, the smoke test kills the
    worker process running it from outside (SIGKILL natively, `taskkill /F` under Wine, as the
    out-of-memory killer or Task Manager would), so it ends `crashed` and every other file ok;
  - the same batch on `--backend dask --cluster local:2`: a LocalCluster of the frozen program's own
    worker processes on 127.0.0.1, files started on workers named by their address;
  - `run python` runs a user's pandas script (numpy too) on the ledgers in worker processes: each
    file's Amount totals by Region equal the generator's own, and results.xlsx is written; a script
    with a syntax error exits 2 naming its line, before any file runs (pandas and numpy are bundled);
  - the desktop app renders its window offscreen with `--screenshot` and exits 0; the PNG is a real
    picture (size and colours checked); again on an Xvfb display through the real windowing plugin
    (xcb on Linux, qwindows.dll under Wine) when Xvfb is there;
  - the same batch through the window of the windowed program, as a desktop shortcut starts it
    (`--recipe FILE --start --exit-when-done`, packaging/ci/smoke_window.py): exit 1, the report right,
    files run in worker processes, no copy of the program left once the window has closed;
  - with --window-time: time from starting the app to its main window being shown (Xvfb and xdotool
    on Linux and under Wine; FindWindow on Windows).
Exit status 0 when every check passed. Results also go to WORK/smoke-summary.json.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

WORKERS = 2
LEDGERS = 6
LEDGER_ROWS = 300
HOSTILE_KINDS = {"truncated.xlsx": "corrupt", "protected.xlsx": "encrypted", "zip-bomb.xlsx": "too_large"}
SLOW_ROWS = 1_200_000  # about 8 s of summarize natively (53 MB): far past the time limit below
TIME_LIMIT = 2.0  # small ledgers take about 0.1 s each, so only the slow file can reach it
# The python task's script: pandas and numpy as a user's script uses them; the totals as JSON text.
PYTHON_SCRIPT = """\
import json

import numpy as np
import pandas as pd


def process(df: pd.DataFrame, context):
    assert str(df["Date"].dtype).startswith("datetime64"), df.dtypes
    totals = df.groupby("Region")["Amount"].sum()
    return {"totals": json.dumps({k: float(np.round(v, 6)) for k, v in totals.items()}), "rows": len(df)}
"""


@dataclass
class Result:
    rc: int
    out: str
    seconds: float


@dataclass
class Smoke:
    cli: Path
    gui: Path
    work: Path
    wine_run: str | None = None
    timeout: float = 180.0
    onefile: bool = False
    results: list[dict[str, Any]] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)
    _xvfb: tuple[str, subprocess.Popen[bytes]] | None = None

    # -- running the programs ----------------------------------------------------------------------
    def arg_path(self, path: Path) -> str:
        """A path as the program sees it: Wine maps drive Z: to the Linux root."""
        path = path.resolve()
        return "Z:" + str(path).replace("/", "\\") if self.wine_run else str(path)

    def command(self, exe: Path, args: list[str], offscreen: bool = False, timeout: float | None = None) -> list[str]:
        if self.wine_run:
            limit = str(int(timeout or self.timeout))
            mode = ["--offscreen"] if offscreen else []
            return ["timeout", "-k", "10", limit, self.wine_run, *mode, str(exe), *args]
        return [str(exe), *args]

    def run(
        self,
        exe: Path,
        args: list[str],
        offscreen: bool = False,
        timeout: float | None = None,
        env_extra: dict[str, str] | None = None,
    ) -> Result:
        env = dict(os.environ, **(env_extra or {}))
        if offscreen and not self.wine_run:
            env["QT_QPA_PLATFORM"] = "offscreen"
        start = time.perf_counter()
        try:
            done = subprocess.run(
                self.command(exe, args, offscreen, timeout),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=env,
                timeout=(timeout or self.timeout) + 30,
                cwd=self.work,
            )
        except subprocess.TimeoutExpired as exc:
            out = (exc.output or b"").decode("utf-8", "replace")
            return Result(124, out + "\n[timed out]", time.perf_counter() - start)
        out = done.stdout.decode("utf-8", "replace")
        return Result(done.returncode, out, time.perf_counter() - start)

    def display(self) -> str:
        """The X display of a private Xvfb, started on first use; close() ends it (a fresh one per use
        means no window of an earlier run can be mistaken for the next one's)."""
        if self._xvfb is None:
            began = time.perf_counter()
            self._xvfb = start_xvfb()
            print(f"    X server {self._xvfb[0]} ready in {time.perf_counter() - began:.1f} s", flush=True)
        return self._xvfb[0]

    def close(self) -> None:
        if self._xvfb is not None:
            server = self._xvfb[1]
            server.terminate()  # not kill: Xvfb then removes its lock file and socket
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)
            self._xvfb = None

    # -- bookkeeping -------------------------------------------------------------------------------
    def check(self, name: str, ok: bool, detail: str = "", seconds: float | None = None) -> bool:
        mark = "PASS" if ok else "FAIL"
        took = f" ({seconds:.1f} s)" if seconds is not None else ""
        print(f"[{mark}] {name}{took}{': ' + detail if detail else ''}", flush=True)
        self.results.append({"check": name, "ok": ok, "detail": detail, "seconds": seconds})
        return ok

    def show(self, result: Result, lines: int = 25) -> None:
        tail = [line if len(line) < 300 else line[:300] + " ..." for line in result.out.strip().splitlines()[-lines:]]
        print("    | " + "\n    | ".join(tail), flush=True)

    # -- the checks --------------------------------------------------------------------------------
    def check_version(self) -> None:
        expected = f"xlbatch {project_version()}"
        result = self.run(self.cli, ["--version"])
        self.timings["cli_version_s"] = round(result.seconds, 2)
        ok = result.rc == 0 and expected in result.out
        if not self.check("--version", ok, f"expected '{expected}', got {result.out.strip()!r}", result.seconds):
            self.show(result)

    def check_tasks(self) -> None:
        expected = set(builtin_task_names())
        result = self.run(self.cli, ["tasks", "--json"])
        try:
            listed = {t["name"] for t in json.loads(result.out[result.out.index("[") :])}
        except (ValueError, KeyError, TypeError):
            listed = set()
        ok = result.rc == 0 and listed == expected
        if not self.check("tasks --json", ok, f"{sorted(listed)} (expected {sorted(expected)})", result.seconds):
            self.show(result)

    def check_demo(self) -> None:
        out = self.work / "demo-out"
        samples = [p.name for p in (ROOT / "resources" / "samples").iterdir() if p.suffix != ".py"]
        result = self.run(self.cli, ["demo", "--out", self.arg_path(out)])
        report = read_json(out / "report.json")
        counts = report.get("counts", {})
        summary = out / "summary.xlsx"
        ok = (
            result.rc == 0
            and counts.get("ok") == len(samples)
            and counts.get("total") == len(samples)
            and summary.is_file()
            and summary.read_bytes()[:2] == b"PK"
        )
        if not self.check("demo", ok, f"rc {result.rc}, counts {counts} for {len(samples)} samples", result.seconds):
            self.show(result)

    def make_batch(self) -> tuple[Path, dict[str, tuple[int, int, float]]]:
        """Ledgers with known content plus three hostile workbooks; returns name -> (rows, columns, sum)."""
        from tests import corpus

        folder = self.work / "batch"
        expected = {}
        for path in corpus.make_corpus(folder, n=LEDGERS, rows=LEDGER_ROWS, formats=("xlsx", "csv")):
            seed = int(path.stem.split("-")[-1])
            table = corpus.ledger_truth(LEDGER_ROWS, seed)
            numbers = [v for row in table for v in row if isinstance(v, int | float) and not isinstance(v, bool)]
            expected[path.name] = (len(table), max(len(row) for row in table), sum(numbers))
        corpus.make_truncated_xlsx(folder)
        corpus.make_encrypted_xlsx(folder)
        corpus.make_zip_bomb_xlsx(folder)
        assert sorted(p.name for p in folder.iterdir()) == sorted([*expected, *HOSTILE_KINDS])
        return folder, expected

    def check_run(self, backend: str, folder: Path, expected: dict[str, tuple[int, int, float]]) -> None:
        out = self.work / f"run-{backend}"
        watch = ProcessWatch(self.cli)
        watch.start()
        args = ["run", "summarize", self.arg_path(folder), "--out", self.arg_path(out)]
        args += ["--backend", backend, "--workers", str(WORKERS), "--progress", "jsonl"]
        if backend == "dask":
            args += ["--cluster", f"local:{WORKERS}"]
        try:
            result = self.run(self.cli, args)
        finally:
            watch.stop()
        self.timings[f"run_{backend}_s"] = round(result.seconds, 2)
        report = read_json(out / "report.json")
        problems = [] if result.rc == 1 else [f"exit {result.rc}, expected 1 (three files fail)"]
        problems += report_problems(report, expected, backend)
        workers = started_worker_pids(result.out)
        if backend == "dask" and not re.search(r'"worker": "tcp://127\.0\.0\.1:\d+ \(pid \d+\)"', result.out):
            problems.append("no FileStarted event naming a Dask worker on 127.0.0.1")
        if not workers:
            problems.append("no FileStarted events naming a worker process")
        if not self.wine_run and watch.root_pids & workers:
            problems.append(f"files ran in the parent process {watch.root_pids & workers}")
        windows = bool(self.wine_run) or os.name == "nt"
        # POSIX adds multiprocessing's resource tracker; a single-file program its unpacking parent; joblib
        # loky's resource tracker and the manager process of its message queue.
        limit = 1 + WORKERS + (0 if windows else 1) + (1 if self.onefile else 0) + (2 if backend == "joblib" else 0)
        if watch.max_count > limit or watch.max_count < 2:
            problems.append(
                f"{watch.max_count} copies of {self.cli.name} at once (expected 2..{limit}): {watch.max_snapshot}"
            )
        detail = (
            f"{report.get('counts')}, files ran in worker pids {sorted(workers)}, "
            f"at most {watch.max_count} processes at once"
        )
        if not self.check(f"run on {backend}", not problems, "; ".join(problems) or detail, result.seconds):
            self.show(result)

    def check_timeout_kill(self, folder: Path, expected: dict[str, tuple[int, int, float]]) -> None:
        batch = self.work / "timeout-batch"
        batch.mkdir()
        small = sorted(expected)[:3]
        for name in small:
            shutil.copy2(folder / name, batch / name)
        write_slow_csv(batch / "slow.csv", SLOW_ROWS)
        out = self.work / "run-timeout"
        args = ["run", "summarize", self.arg_path(batch), "--out", self.arg_path(out), "--backend", "processes"]
        args += ["--workers", str(WORKERS), "--timeout", str(TIME_LIMIT), "--progress", "none"]
        result = self.run(self.cli, args)
        report = read_json(out / "report.json")
        files = {Path(f["path"].replace("\\", "/")).name: f for f in report.get("files", [])}
        slow = files.get("slow.csv") or {}
        problems = []
        if result.rc != 1:
            problems.append(f"exit {result.rc}, expected 1")
        if slow.get("status") != "failed" or (slow.get("error") or {}).get("kind") != "timeout":
            problems.append(f"slow.csv: {slow.get('status')} {(slow.get('error') or {}).get('kind')}, expected timeout")
        for name in small:
            if (files.get(name) or {}).get("status") != "ok":
                problems.append(f"{name}: {(files.get(name) or {}).get('status')}, expected ok")
        detail = f"{report.get('counts')}; slow.csv: {(slow.get('error') or {}).get('message')}"
        if not self.check(
            "worker killed at the time limit", not problems, "; ".join(problems) or detail, result.seconds
        ):
            self.show(result)

    def check_joblib_crash(self, folder: Path, expected: dict[str, tuple[int, int, float]]) -> None:
        """A joblib worker dies while it runs one file (killed from outside whenever that file starts): only
        that file fails, `crashed`, and the others finish."""
        batch = self.work / "crash-batch"
        batch.mkdir()
        small = sorted(expected)[:3]
        for name in small:
            shutil.copy2(folder / name, batch / name)
        write_slow_csv(batch / "victim.csv", SLOW_ROWS)
        out = self.work / "run-joblib-crash"
        args = ["run", "summarize", self.arg_path(batch), "--out", self.arg_path(out), "--backend", "joblib"]
        args += ["--workers", str(WORKERS), "--progress", "jsonl"]
        start = time.perf_counter()
        killed: list[int] = []
        proc = subprocess.Popen(
            self.command(self.cli, args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, cwd=self.work, env=dict(os.environ),
        )  # fmt: skip
        lines = []
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            lines.append(line)
            pid = started_pid(line, "victim.csv")
            if pid is not None:
                self.kill_worker(pid)
                killed.append(pid)
        rc = proc.wait(self.timeout)
        result = Result(rc, "".join(lines), time.perf_counter() - start)
        report = read_json(out / "report.json")
        files = {Path(f["path"].replace("\\", "/")).name: f for f in report.get("files", [])}
        victim = files.get("victim.csv") or {}
        error = victim.get("error") or {}
        problems = []
        if rc != 1:
            problems.append(f"exit {rc}, expected 1")
        if not killed:
            problems.append("victim.csv never started in a worker process")
        if victim.get("status") != "failed" or error.get("kind") != "crashed":
            problems.append(f"victim.csv: {victim.get('status')} {error.get('kind')}, expected crashed")
        for name in small:
            if (files.get(name) or {}).get("status") != "ok":
                problems.append(f"{name}: {(files.get(name) or {}).get('status')}, expected ok")
        detail = f"{report.get('counts')}; killed worker(s) {killed}; victim.csv: {error.get('detail')}"
        if not self.check("joblib worker crash isolated to its file", not problems, "; ".join(problems) or detail,
                          result.seconds):  # fmt: skip
            self.show(result)

    def kill_worker(self, pid: int) -> None:
        """Kill one worker process of the program as the system would (its pid as the program reports it)."""
        if self.wine_run:
            prefix = Path(os.environ.get("WORK", "/tmp/wine-build")) / "prefix"
            subprocess.run(
                ["timeout", "60", "wine", "taskkill", "/F", "/PID", str(pid)],
                env=dict(os.environ, WINEPREFIX=str(prefix), WINEDEBUG="-all"),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
            )  # fmt: skip
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)

    def check_python_task(self, folder: Path) -> None:
        """The python task: a user's pandas script over the ledgers, on processes, and a refused one."""
        from tests import corpus

        script = self.work / "totals.py"
        script.write_text(PYTHON_SCRIPT, encoding="utf-8")
        out = self.work / "run-python"
        args = ["run", "python", self.arg_path(folder), "--out", self.arg_path(out), "--backend", "processes"]
        args += ["--workers", str(WORKERS), "--param", f"script={self.arg_path(script)}"]
        args += ["--include", "*.xlsx", "--include", "*.csv", "--exclude", "truncated*", "--exclude", "protected*"]
        args += ["--exclude", "zip-bomb*", "--progress", "none"]
        result = self.run(self.cli, args)
        report = read_json(out / "report.json")
        problems = [] if result.rc == 0 else [f"exit {result.rc}, expected 0"]
        for entry in report.get("files", []):
            name = Path(entry["path"].replace("\\", "/")).name
            seed = int(Path(name).stem.split("-")[-1])
            expected: dict[str, float] = {}
            for row in corpus.ledger_truth(LEDGER_ROWS, seed)[1:]:
                expected[row[1]] = expected.get(row[1], 0.0) + row[6]
            got = (entry.get("result") or {}).get("totals")
            if entry.get("status") != "ok" or not got or json.loads(got).keys() != expected.keys():
                problems.append(f"{name}: {entry.get('status')} {entry.get('error')} {got}")
            elif any(abs(json.loads(got)[k] - v) > 1e-6 for k, v in expected.items()):
                problems.append(f"{name}: totals {got}, expected {expected}")
        if len(report.get("files", [])) != LEDGERS or not (out / "results.xlsx").is_file():
            problems.append(f"{len(report.get('files', []))} files, results.xlsx {(out / 'results.xlsx').is_file()}")
        bad = self.work / "bad.py"
        bad.write_text("def process(df, context):\n    return df.groupby(\n", encoding="utf-8")
        refused = self.run(
            self.cli, ["run", "python", self.arg_path(folder), "--out", self.arg_path(self.work / "run-bad"),
                       "--param", f"script={self.arg_path(bad)}"],
        )
        if refused.rc != 2 or "syntax error at line 2" not in refused.out or (self.work / "run-bad").exists():
            problems.append(f"bad script: exit {refused.rc}, {refused.out.strip()[-200:]!r}")
        detail = f"{report.get('counts')}; bad script: {refused.out.strip()[-120:]}"
        if not self.check("run python (a pandas script)", not problems, "; ".join(problems) or detail, result.seconds):
            self.show(result)

    def check_screenshot(self) -> None:
        shot = self.work / "window.png"
        result = self.run(self.gui, ["--screenshot", self.arg_path(shot)], offscreen=True)
        self.timings["gui_screenshot_s"] = round(result.seconds, 2)
        info = png_info(shot) if shot.is_file() else None
        ok = (
            result.rc == 0
            and info is not None
            and info["width"] >= 640
            and info["height"] >= 400
            and info["colours"] >= 32
        )
        if not self.check("GUI --screenshot", ok, f"exit {result.rc}, {shot}: {info}", result.seconds):
            self.show(result)
        if shot.is_file():
            self.timings["screenshot"] = str(shot)

    def check_screenshot_on_display(self) -> None:
        """The window drawn by the platform's real windowing plugin (xcb; qwindows.dll under Wine) on Xvfb."""
        if os.name == "nt" or not shutil.which("Xvfb") or not shutil.which("xdotool"):
            return
        shot = self.work / "window-display.png"
        try:
            display = self.display()
        except WindowProbeUnavailable as exc:
            self.check("GUI --screenshot on a display", False, str(exc))
            return
        env = {"DISPLAY": display} if self.wine_run else {"DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        try:
            result = self.run(self.gui, ["--screenshot", self.arg_path(shot)], env_extra=env)
        finally:
            self.close()
        info = png_info(shot) if shot.is_file() else None
        ok = result.rc == 0 and info is not None and info["width"] >= 640 and info["colours"] >= 32
        if not self.check("GUI --screenshot on a display", ok, f"exit {result.rc}, {shot}: {info}", result.seconds):
            self.show(result)

    def check_window_time(self, runs: int) -> None:
        wine_env = dict(os.environ, WINEPREFIX=str(Path(os.environ.get("WORK", "/tmp/wine-build")) / "prefix"))
        if self.wine_run:
            # Keep Wine's server and services up between the starts, as Windows itself would be.
            subprocess.run(["wineserver", "-p"], env=wine_env, timeout=60, check=False)
        try:
            times = []
            for attempt in range(runs):
                shown = time_to_window(self, attempt)
                if shown is None:
                    # A fresh Xvfb can refuse the very first client ("could not connect to display") on a
                    # loaded machine: try once more; a program that really cannot show its window fails twice.
                    shown = time_to_window(self, attempt)
                times.append(shown)
        except WindowProbeUnavailable as exc:
            self.check("time to first window", False, str(exc))
            return
        finally:
            if self.wine_run:
                for action in ("-k", "-w"):
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        subprocess.run(["wineserver", action], env=wine_env, timeout=60, check=False)
            self.close()
        shown = [t for t in times if t is not None]
        self.timings["window_s"] = [round(t, 2) if t is not None else None for t in times]
        ok = len(shown) == len(times)
        detail = ", ".join("not shown" if t is None else f"{t:.2f} s" for t in times)
        if shown:
            first = "not shown" if times[0] is None else f"{times[0]:.2f} s"
            detail += f" (first start {first}, median {statistics.median(shown):.2f} s)"
        self.check("time to first window", ok, detail)


# -- helpers -----------------------------------------------------------------------------------------


def project_version() -> str:
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def builtin_task_names() -> list[str]:
    """BUILTIN_MODULES from core/tasks/__init__.py, read without importing it (each module is its task)."""
    tree = ast.parse((ROOT / "core" / "tasks" / "__init__.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "BUILTIN_MODULES" for t in targets):
                return list(ast.literal_eval(node.value))
    raise RuntimeError("BUILTIN_MODULES not found in core/tasks/__init__.py")


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def report_problems(report: dict[str, Any], expected: dict[str, tuple[int, int, float]], backend: str) -> list[str]:
    """What is wrong in the report of the smoke test's batch: its backend and workers, each ledger's rows,
    columns and numeric sum, each hostile file's error kind."""
    problems = []
    if report.get("backend") != backend or report.get("workers") != WORKERS:
        problems.append(f"report says backend {report.get('backend')} with {report.get('workers')} workers")
    files = {Path(f["path"].replace("\\", "/")).name: f for f in report.get("files", [])}
    for name, (rows, columns, total) in expected.items():
        entry = files.get(name) or {}
        sheets = (entry.get("result") or {}).get("sheets") or [{}]
        got = (sheets[0].get("rows"), sheets[0].get("columns"), sheets[0].get("numeric_sum"))
        if entry.get("status") != "ok" or got[:2] != (rows, columns) or abs((got[2] or 0) - total) > 1e-6:
            problems.append(f"{name}: {entry.get('status')} {got}, expected ok {(rows, columns, total)}")
    for name, kind in HOSTILE_KINDS.items():
        entry = files.get(name) or {}
        got = (entry.get("error") or {}).get("kind")
        if entry.get("status") != "failed" or got != kind:
            problems.append(f"{name}: {entry.get('status')} {got}, expected failed {kind}")
    return problems


def started_worker_pids(jsonl: str) -> set[int]:
    """Pids of the processes that ran files, from FileStarted events ("pid N": a process's main thread)."""
    pids = set()
    for line in jsonl.splitlines():
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "FileStarted":
            # "pid N" (a process's main thread), or a Dask worker's "tcp://HOST:PORT (pid N)"
            match = re.fullmatch(r"(?:pid (\d+))|(?:\S+ \(pid (\d+)\))", event.get("worker", ""))
            if match:
                pids.add(int(match.group(1) or match.group(2)))
    return pids


def started_pid(line: str, name: str) -> int | None:
    """The worker pid of a FileStarted JSON line for the file called `name`, else None."""
    if not line.startswith("{") or '"FileStarted"' not in line:
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if Path(str(event.get("path", "")).replace("\\", "/")).name != name:
        return None
    found = started_worker_pids(line)
    return next(iter(found)) if found else None


def write_slow_csv(path: Path, rows: int) -> None:
    """A plain but big CSV: summarizing it takes seconds, so it reaches the time limit."""
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Row", "Half", "Code", "Weekday", "Date", "Triple", "Text", "Mod"])
        for i in range(rows):
            writer.writerow([i, i * 0.5, f"x{i % 97}", i % 7, "2024-01-01", i * 3, "yy", i % 13])


def png_info(path: Path) -> dict[str, int] | None:
    """Width, height and the number of distinct pixel byte values of an 8-bit PNG (None if it is not one)."""
    data = path.read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    pos, width, height, idat = 8, 0, 0, b""
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    try:
        raw = zlib.decompress(idat)
    except zlib.error:
        return None
    return {"width": width, "height": height, "bytes": len(data), "colours": len(set(raw))}


class ProcessWatch:
    """Counts the running copies of one program file while a batch runs."""

    def __init__(self, program: Path) -> None:
        self.program = program
        self.max_count = 0
        self.root_pids: set[int] = set()
        self.max_snapshot: list[tuple[int, int, str]] = []
        self._before: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _matches(self, info: dict[str, Any]) -> bool:
        # Not a copy left over from an earlier call (e.g. a resource tracker still exiting), not a zombie.
        if info["pid"] in self._before or info.get("status") == "zombie" or not info.get("cmdline"):
            return False
        return is_program(info, self.program)

    def _loop(self) -> None:
        import psutil

        while not self._stop.is_set():
            found = []
            for proc in psutil.process_iter(["pid", "ppid", "name", "cmdline", "status"]):
                try:
                    if self._matches(proc.info):
                        found.append(proc.info)
                except (psutil.Error, OSError):
                    continue
            # Natively the program is a child of this script; its workers are its children.
            self.root_pids |= {p["pid"] for p in found if p["ppid"] == os.getpid()}
            if len(found) > self.max_count:
                self.max_count = len(found)
                self.max_snapshot = [(p["pid"], p["ppid"], " ".join(p["cmdline"] or [])[:160]) for p in found]
            self._stop.wait(0.05)

    def start(self) -> None:
        import psutil

        self._before = set(psutil.pids())
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


class WindowProbeUnavailable(Exception):
    pass


def time_to_window(smoke: Smoke, attempt: int) -> float | None:
    """Seconds from starting the app to its main window ("xlbatch") being visible; None if never."""
    import psutil

    limit = 90.0 if smoke.wine_run else 30.0
    if os.name == "nt":
        import ctypes

        user32 = ctypes.windll.user32  # type: ignore[attr-defined]

        def visible() -> bool:
            handle = user32.FindWindowW(None, "xlbatch")
            return bool(handle and user32.IsWindowVisible(handle))

        env = dict(os.environ)
    else:
        if not shutil.which("Xvfb") or not shutil.which("xdotool"):
            raise WindowProbeUnavailable("needs Xvfb and xdotool (apt-get install xvfb xdotool)")
        env = dict(os.environ, DISPLAY=smoke.display(), QT_QPA_PLATFORM="xcb")

        def visible() -> bool:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", "^xlbatch$"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                timeout=10,
            )
            return found.returncode == 0 and bool(found.stdout.strip())

    # A window left by the previous start must not count as this one's.
    deadline = time.monotonic() + 20
    while visible() and time.monotonic() < deadline:
        time.sleep(0.2)
    command = smoke.command(smoke.gui, [], timeout=limit + 30)
    log_path = smoke.work / f"window-{attempt + 1}.log"
    log = open(log_path, "wb")  # noqa: SIM115 (closed in the finally below)
    before = set(psutil.pids())
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env)
    shown = None
    try:
        while time.perf_counter() - start < limit and proc.poll() is None:
            if visible():
                shown = time.perf_counter() - start
                break
            time.sleep(0.03)
    finally:
        # The launcher's process tree, and the app's own processes: Wine starts a program's child
        # processes (a single-file program's app, pool workers) outside the launcher's tree.
        family = []
        with contextlib.suppress(psutil.Error):
            family = [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]
        family += [p for p in program_processes(smoke.gui) if p.pid not in before]
        for member in family:
            with contextlib.suppress(psutil.Error):
                member.kill()
        psutil.wait_procs(family, timeout=30)
        proc.wait(30)
        log.close()
    if shown is None:
        ended = f"the program ended with {proc.returncode}" if proc.returncode is not None else "still not shown"
        output = log_path.read_text(encoding="utf-8", errors="replace").strip()[-800:]
        print(
            f"    window attempt {attempt + 1}: not shown after {time.perf_counter() - start:.1f} s ({ended}): {output}"
        )
    else:
        print(f"    window attempt {attempt + 1}: {shown:.2f} s", flush=True)
    return shown


def program_processes(program: Path) -> list[Any]:
    """Running processes of this program file (natively or under Wine)."""
    import psutil

    return [proc for proc in psutil.process_iter(["name", "cmdline"]) if is_program(proc.info, program)]


def command_forms(program: Path) -> list[str]:
    """How a command line starting with `program` begins (lower case): its path, and under Wine its
    Windows path on drive Z:, which is how Wine shows the program's processes."""
    path = os.path.abspath(program)
    forms = [path]
    if os.name != "nt":
        forms.append("z:" + path.replace("/", "\\"))
    return [form.lower() for form in forms]


def is_program(info: dict[str, Any], program: Path) -> bool:
    """Whether a process (psutil info with its cmdline) runs this very program file.

    By path, not by name: on a shared machine another bundle's `xlbatch` (or `xlbatch.exe`) may be
    running, and it is neither counted nor stopped here."""
    command = " ".join(info.get("cmdline") or []).strip().lstrip('"').lower()
    return bool(command) and any(
        command == form or command.startswith((form + " ", form + '"')) for form in command_forms(program)
    )


def accepts_connections(display: str, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        probe = subprocess.run(
            ["xdotool", "getdisplaygeometry"],
            env=dict(os.environ, DISPLAY=display),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
        )
        if probe.returncode == 0:
            return True
        time.sleep(0.1)
    return False


def start_xvfb(attempts: int = 3) -> tuple[str, subprocess.Popen[bytes]]:
    """A private X server on a free display number (Xvfb picks it and writes it to a pipe when ready)."""
    import select

    for _ in range(attempts):
        read_end, write_end = os.pipe()
        proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
            pass_fds=(write_end,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            ready, _, _ = select.select([pipe], [], [], 20.0)  # never wait on a server that does not come up
            number = pipe.readline().strip() if ready else ""
        if number and accepts_connections(f":{number}"):
            return f":{number}", proc
        proc.terminate()
        proc.wait(10)
    raise WindowProbeUnavailable(f"Xvfb did not start ({attempts} attempts)")


def main(argv: list[str] | None = None) -> int:
    sys.modules.setdefault("smoke", sys.modules[__name__])  # smoke_window imports its helpers from here
    import smoke_window

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", required=True, type=Path, help="the built xlbatch-cli program")
    parser.add_argument("--gui", required=True, type=Path, help="the built xlbatch program")
    parser.add_argument("--wine-run", help="run the programs under Wine with this wine-run.sh")
    parser.add_argument(
        "--work", type=Path, help="folder for the generated inputs and outputs (default: a temporary one)"
    )
    parser.add_argument("--timeout", type=float, default=180.0, help="time limit of each program call, seconds")
    parser.add_argument("--onefile", action="store_true", help="the programs are single files (XLBATCH_ONEFILE=1)")
    parser.add_argument("--window-time", type=int, default=0, metavar="N", help="measure time to first window N times")
    parser.add_argument("--window-only", action="store_true", help="only measure the time to the first window")
    args = parser.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="xlbatch-smoke-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for exe in (args.cli, args.gui):
        if not exe.is_file():
            print(f"missing: {exe}")
            return 1
    smoke = Smoke(args.cli.resolve(), args.gui.resolve(), work.resolve(), args.wine_run, args.timeout, args.onefile)
    print(f"smoke test of {smoke.cli} and {smoke.gui}{' under Wine' if args.wine_run else ''}; work folder {work}")
    started = time.perf_counter()
    try:
        if not args.window_only:
            smoke.check_version()
            smoke.check_tasks()
            smoke.check_demo()
            folder, expected = smoke.make_batch()
            for backend in ("processes", "multiprocessing", "joblib", "dask"):
                smoke.check_run(backend, folder, expected)
            smoke.check_timeout_kill(folder, expected)
            smoke.check_joblib_crash(folder, expected)
            smoke.check_python_task(folder)
            smoke.check_screenshot()
            smoke.check_screenshot_on_display()
            smoke_window.check_window_batch(smoke, folder, expected)
        if args.window_time or args.window_only:
            smoke.check_window_time(args.window_time or 3)
    finally:
        smoke.close()
    failed = [r["check"] for r in smoke.results if not r["ok"]]
    summary = {"results": smoke.results, "timings": smoke.timings, "seconds": round(time.perf_counter() - started, 1)}
    (work / "smoke-summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"timings: {json.dumps(smoke.timings)}")
    print(f"{len(smoke.results) - len(failed)} of {len(smoke.results)} checks passed in {summary['seconds']} s")
    if failed:
        print("FAILED: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
