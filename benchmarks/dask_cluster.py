"""The dask backend against processes, measured side by side in one sitting, and files spread over the
workers of several simulated machines.

    python -m benchmarks.dask_cluster [--tiny 1000] [--ledgers 40] [--repeat 2] [--out benchmarks/results]

Rows of the table (summarize on every file, 2 workers each; runs interleaved, medians of --repeat):
  - per-file overhead on the tiny invoices: wall time per file of `dask` (LocalCluster of 2, started
    once and kept, as the desktop app keeps it) and of `processes` (its pool started by each run, as a CLI
    run does; small files travel 32 to a task there, one per task on Dask); the ratio dask/processes;
  - throughput on 40 ledgers of about 1 MB: MB/s of each, the ratio;
  - a simulated multi-machine run: a `dask scheduler` on 127.0.0.1 and three `xlbatch worker` processes
    (one worker each, every one pinned to one CPU with the affinity mask, as three one-core machines
    would be), 40 ledgers: how many files each worker ran.

The machine is shared: only ratios measured in this one run mean anything; absolute times move with the
load. Everything listens on 127.0.0.1 only. Results: a Markdown table on stdout and dask.json in --out.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MACHINES = 3


def make_files(folder: Path, tiny: int, ledgers: int) -> tuple[Path, Path]:
    from benchmarks.make_corpus import LEDGER_BYTES_PER_ROW, LEDGER_HEADER, ledger_rows, write_invoice, write_table

    tiny_dir, ledger_dir = folder / "tiny", folder / "ledgers"
    tiny_dir.mkdir(parents=True)
    ledger_dir.mkdir(parents=True)
    for i in range(tiny):
        write_invoice(tiny_dir / f"invoice-{i:05d}.xlsx", i)
    for i in range(ledgers):
        rows = ledger_rows(int(1_000_000 / LEDGER_BYTES_PER_ROW), 700 + i)
        write_table(ledger_dir / f"ledger-{i:03d}.xlsx", "Sales", LEDGER_HEADER, rows, {9, 11})
    return tiny_dir, ledger_dir


def timed(folder: Path, backend: str, cluster: str | None = None) -> tuple[float, Any]:
    from xlbatch.runner import run_batch

    with tempfile.TemporaryDirectory(prefix="xlbatch-bench-") as out:
        events: list[Any] = []
        began = time.perf_counter()
        report = run_batch(
            task="summarize",
            paths=[str(folder)],
            out_dir=out,
            backend=backend,
            workers=2,
            cluster=cluster,
            report_path="",
            on_event=events.append if cluster else None,
        )
        seconds = time.perf_counter() - began
    if report.counts["ok"] != report.counts["total"]:
        raise SystemExit(f"{backend}: {report.counts} on {folder}")
    return seconds, events


def side_by_side(folder: Path, repeat: int, cluster: str) -> dict[str, float]:
    """Median seconds of processes and dask, runs interleaved."""
    runs: dict[str, list[float]] = {"processes": [], "dask": []}
    for _ in range(repeat):
        runs["processes"].append(timed(folder, "processes")[0])
        runs["dask"].append(timed(folder, "dask", cluster)[0])
    return {name: statistics.median(values) for name, values in runs.items()}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def simulated_machines(folder: Path) -> dict[str, Any]:
    """One scheduler and MACHINES `xlbatch worker` processes, each pinned to one CPU, on loopback."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    cpus = sorted(os.sched_getaffinity(0))
    try:
        for i in range(MACHINES):
            cpu = str(cpus[i % len(cpus)])
            command = ["taskset", "-c", cpu, sys.executable, "-m", "xlbatch", "worker", address, "--nworkers", "1"]
            procs.append(subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address, timeout=30, set_as_default=False) as client:
            client.wait_for_workers(MACHINES, timeout=120)
        seconds, events = timed(folder, "dask", address)
        spread = Counter(e.worker.split(" ")[0] for e in events if type(e).__name__ == "FileStarted")
        return {"seconds": seconds, "files_per_worker": sorted(spread.values(), reverse=True), "workers": len(spread)}
    finally:
        from xlbatch.executors.dask_cluster import forget

        forget(address)
        for proc in reversed(procs):
            with contextlib.suppress(Exception):
                import psutil

                for member in [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]:
                    member.kill()
            proc.wait(30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", type=int, default=1000)
    parser.add_argument("--ledgers", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args(argv)
    from xlbatch.executors.dask_cluster import close_all, connect

    with tempfile.TemporaryDirectory(prefix="xlbatch-dask-bench-") as work:
        began = time.perf_counter()
        tiny_dir, ledger_dir = make_files(Path(work), args.tiny, args.ledgers)
        print(f"wrote {args.tiny} invoices and {args.ledgers} ledgers in {time.perf_counter() - began:.0f} s")
        started = time.perf_counter()
        connect("local:2")
        cluster_start = time.perf_counter() - started
        tiny = side_by_side(tiny_dir, args.repeat, "local:2")
        ledgers = side_by_side(ledger_dir, args.repeat, "local:2")
        close_all()
        machines = simulated_machines(ledger_dir)
        mb = sum(p.stat().st_size for p in ledger_dir.iterdir()) / 1e6
    result = {
        "tiny_files": args.tiny,
        "ledgers": args.ledgers,
        "ledger_mb": round(mb, 1),
        "cluster_start_s": round(cluster_start, 2),
        "tiny_s": tiny,
        "ledgers_s": ledgers,
        "machines": machines,
        "cpus": len(os.sched_getaffinity(0)),
        "repeat": args.repeat,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "dask.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(table(result))
    return 0


def table(r: dict[str, Any]) -> str:
    n, tiny, led, m = r["tiny_files"], r["tiny_s"], r["ledgers_s"], r["machines"]
    per = {k: 1000 * v / n for k, v in tiny.items()}
    rate = {k: r["ledger_mb"] / v for k, v in led.items()}
    spread = " / ".join(str(c) for c in m["files_per_worker"])
    return "\n".join(
        [
            "| measurement | processes x2 | dask, LocalCluster of 2 | dask / processes |",
            "|---|---|---|---|",
            f"| {n} tiny invoices: wall time per file | {per['processes']:.1f} ms | {per['dask']:.1f} ms "
            f"| {per['dask'] / per['processes']:.2f}x |",
            f"| {r['ledgers']} ledgers of ~1 MB ({r['ledger_mb']} MB): throughput | {rate['processes']:.2f} MB/s "
            f"| {rate['dask']:.2f} MB/s | {rate['dask'] / rate['processes']:.2f}x |",
            f"| {MACHINES} simulated machines (one `xlbatch worker` each, pinned to one CPU), {r['ledgers']} "
            f"ledgers | | {m['seconds']:.1f} s, files per worker {spread} | |",
            "",
            f"LocalCluster start-up (once, kept between batches): {r['cluster_start_s']:.1f} s. "
            f"Medians of {r['repeat']} interleaved runs on {r['cpus']} CPUs.",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
