"""The journal's durability schedule: every line reaches the OS at once, the disk in groups."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xlbatch import journal as journal_module
from xlbatch.journal import Journal
from xlbatch.outcome import OK, FileOutcome


def test_lines_are_readable_at_once_and_fsynced_in_groups(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    syncs: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(journal_module.os, "fsync", lambda fd: (syncs.append(fd), real_fsync(fd)))
    inputs = []
    for i in range(50):
        path = tmp_path / f"in{i}.csv"
        path.write_text("a\n1\n", encoding="utf-8")
        inputs.append(path)
    journal = Journal(tmp_path / "out")
    journal.start(keep=False)
    for i, path in enumerate(inputs):
        journal.record(FileOutcome(i, str(path), OK), "summarize", 1, "{}")
        # Written through: another reader (a resumed run after a kill) sees the line already.
        assert str(path) in Journal(tmp_path / "out").entries()
    during = len(syncs)
    journal.close()
    assert 1 <= during < 50, "one fsync per file is what grouping avoids"
    assert len(syncs) == during + 1, "closing forces the last lines to disk"
    assert len(Journal(tmp_path / "out").entries()) == 50
