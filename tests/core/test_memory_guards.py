"""Memory guards on every backend: stray cells far from the data are read in seconds under an address-space
limit, a reference past XFD is `corrupt`, the batch goes on; and a process worker over its memory budget
is stopped, its file `too_large`, while the files beside it finish."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tests.faulty_tasks  # noqa: F401 - registers the test-only tasks
from tests.core.sparse_books import REPO, past_xfd_book, stray_book
from tests.helpers import numbers_book
from xlbatch import memory_guard
from xlbatch.runner import run_batch

BACKENDS = ("sequential", "threads", "asyncio", "processes", "multiprocessing", "joblib")
# Enough for Python, the readers and two spawned workers; far too little for calamine's rectangle of the
# SG200001 sheet (3.2 GB) and nothing like the 550 GB of XFD1048576: without the sparse path they abort.
ADDRESS_SPACE_LIMIT = 3 * 1024**3

_RUN_ALL_BACKENDS = textwrap.dedent(
    """
    import json, resource, sys
    from xlbatch.runner import run_batch

    def main():
        limit = int(sys.argv[3])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # spawned workers inherit it
        found = {}
        for backend in sys.argv[4:]:
            report = run_batch(task="summarize", paths=[sys.argv[1]], out_dir=f"{sys.argv[2]}/{backend}",
                               backend=backend, workers=2, timeout=60)
            found[backend] = {
                f.path.rsplit("/", 1)[-1]: [f.status, f.error.kind if f.error else None,
                                           (f.result or {}).get("sheets")]
                for f in report.files
            }
        print(json.dumps(found))

    if __name__ == "__main__":
        main()
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_AS is POSIX")
def test_stray_cells_and_damaged_references_on_every_backend(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    stray_book(folder / "stray-SG200001.xlsx", "SG200001")
    stray_book(folder / "stray-XFD1048576.xlsx", "XFD1048576")
    past_xfd_book(folder / "damaged-XFE5.xlsx")
    numbers_book(folder / "plain.xlsx")
    script = tmp_path / "run_all.py"
    script.write_text(_RUN_ALL_BACKENDS, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(folder), str(tmp_path / "out"), str(ADDRESS_SPACE_LIMIT), *BACKENDS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    for backend in BACKENDS:
        files = found[backend]
        assert files["plain.xlsx"][:2] == ["ok", None], backend
        assert files["damaged-XFE5.xlsx"][:2] == ["failed", "corrupt"], backend
        far = (("stray-SG200001.xlsx", 200_001, 501), ("stray-XFD1048576.xlsx", 1_048_576, 16_384))
        for name, rows, columns in far:
            status, kind, sheets = files[name]
            assert (status, kind) == ("ok", None), (backend, name, files[name])
            (sheet,) = sheets
            # The data and the stray cell, every one counted; the empty rows between cost nothing.
            assert (sheet["rows"], sheet["columns"]) == (rows, columns)
            assert (sheet["non_empty_cells"], sheet["numeric_cells"], sheet["numeric_sum"]) == (7, 3, 13.5)


@pytest.mark.parametrize("backend", ["processes", "multiprocessing", "joblib"])
def test_a_worker_over_its_memory_budget_is_stopped_and_the_others_finish(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "in"
    for name in ("a", "bloat", "b", "c"):
        numbers_book(folder / f"{name}.xlsx")
    monkeypatch.setattr(memory_guard, "worker_memory_budget", lambda workers: 300 * 2**20)
    report = run_batch(
        task="faulty",
        paths=[str(folder)],
        out_dir=str(tmp_path / "out"),
        backend=backend,
        workers=2,
        params={"bloat_mb": 800, "slow_seconds": 30},  # held for 30 s: only the budget ends it sooner
    )
    outcomes = {Path(f.path).name: f for f in report.files}
    bloat = outcomes.pop("bloat.xlsx")
    assert bloat.status == "failed" and bloat.error is not None
    assert bloat.error.kind == "too_large"
    assert "more memory than this computer has free" in bloat.error.message
    assert "budget of 300 MB" in bloat.error.detail
    assert {name: o.status for name, o in outcomes.items()} == {"a.xlsx": "ok", "b.xlsx": "ok", "c.xlsx": "ok"}
    assert all(o.result["cells"] == 12 for o in outcomes.values())
    assert report.seconds < 30


def test_the_budget_is_a_share_of_free_memory_with_a_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory_guard, "memory_probe", lambda: 20 * 1024**3)
    assert memory_guard.worker_memory_budget(4) == int(20 * 1024**3 * memory_guard.WORKER_MEMORY_SHARE / 4)
    monkeypatch.setattr(memory_guard, "memory_probe", lambda: 512 * 1024**2)
    assert memory_guard.worker_memory_budget(8) == memory_guard.WORKER_MEMORY_FLOOR
