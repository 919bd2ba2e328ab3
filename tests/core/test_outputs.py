"""Outputs are atomic, mirror the input folders, never overwrite an input, and vanish if a file fails."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import numbers_book
from xlbatch.atomic import TEMP_MARKER, atomic_path, remove_if_unchanged, remove_stale_temp_files
from xlbatch.errors import TaskFailure
from xlbatch.params import InvalidParams
from xlbatch.preflight import sniff
from xlbatch.runner import run_batch
from xlbatch.tasks.base import FileContext


def test_atomic_path_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed half-way")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with atomic_path(target) as tmp:
        assert TEMP_MARKER in tmp.name and tmp.suffix == ".txt"
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_stale_temp_files_are_removed(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    stale = tmp_path / "sub" / f"~report{TEMP_MARKER}123-abcd.xlsx"
    stale.write_text("partial")
    keep = tmp_path / "sub" / "report.xlsx"
    keep.write_text("complete")
    assert remove_stale_temp_files(tmp_path) == [stale]
    assert keep.exists() and not stale.exists()


def test_the_parent_removes_only_the_output_a_worker_announced(tmp_path: Path) -> None:
    """What a worker announces before the rename identifies the file it put in place, and nothing else."""
    target = tmp_path / "out.txt"
    target.write_text("an older output", encoding="utf-8")
    announced = []
    with pytest.raises(OSError), atomic_path(target, lambda t, identity: announced.append(identity)) as tmp:
        tmp.write_text("new", encoding="utf-8")
        raise OSError("killed before the rename")
    assert announced == []  # nothing announced: the older file is not this worker's to remove
    # Announced before the rename (a worker killed right after it has said so already).
    with atomic_path(target, lambda t, identity: announced.append((t, identity, t.read_text("utf-8")))) as tmp:
        tmp.write_text("new", encoding="utf-8")
    [(path, identity, then)] = announced
    assert (path, then) == (target, "an older output")
    other = tmp_path / "other.txt"
    other.write_text("new", encoding="utf-8")
    assert not remove_if_unchanged(other, identity)  # same content, another file
    assert remove_if_unchanged(target, identity) and not target.exists()
    target.write_text("newer", encoding="utf-8")  # written again since: not the announced file
    assert not remove_if_unchanged(target, identity) and target.exists()


def test_an_output_that_would_overwrite_an_input_is_refused(tmp_path: Path) -> None:
    source_path = numbers_book(tmp_path / "book.xlsx")
    source = sniff(source_path, "book.xlsx")
    ctx = FileContext(source, tmp_path, frozenset({str(source_path)}))
    with pytest.raises(TaskFailure) as caught, ctx.file_output(".xlsx"):
        pass
    assert "overwrite an input" in caught.value.error.message
    assert source_path.read_bytes()[:2] == b"PK"


def test_an_input_named_another_way_is_still_refused_as_an_output(tmp_path: Path) -> None:
    # The input as the batch was given it: through a link, and a path with "..": the same file.
    source_path = numbers_book(tmp_path / "book.xlsx")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.xlsx").symlink_to(source_path)
    source = sniff(source_path, "book.xlsx")
    for given in (tmp_path / "link.xlsx", tmp_path / "sub" / ".." / "book.xlsx"):
        others = frozenset({str(tmp_path / f"other-{n}.xlsx") for n in range(50)})
        ctx = FileContext(source, tmp_path, others | {str(given)})
        with pytest.raises(TaskFailure) as caught, ctx.file_output(".xlsx"):
            pass
        assert "overwrite an input" in caught.value.error.message
    assert source_path.read_bytes()[:2] == b"PK"


def test_the_input_folder_cannot_be_the_output_folder(tmp_path: Path) -> None:
    numbers_book(tmp_path / "in" / "a.xlsx")
    with pytest.raises(InvalidParams):
        run_batch(task="summarize", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "in"))


def test_outputs_mirror_the_input_folders(tmp_path: Path) -> None:
    import tests.faulty_tasks  # noqa: F401

    numbers_book(tmp_path / "in" / "north" / "q1.xlsx")
    numbers_book(tmp_path / "in" / "south" / "q1.xlsx")
    run_batch(task="faulty", paths=[str(tmp_path / "in")], out_dir=str(tmp_path / "out"), backend="threads")
    assert (tmp_path / "out" / "north" / "q1.txt").exists() and (tmp_path / "out" / "south" / "q1.txt").exists()


def test_a_file_that_fails_half_way_leaves_no_outputs(tmp_path: Path) -> None:
    from xlbatch.tasks.base import Task
    from xlbatch.worker import WorkFile, WorkItem, process_file

    class TwoOutputs(Task):
        name = "two-outputs"

        def process(self, source, params, ctx):
            with ctx.file_output(".first.txt") as tmp:
                tmp.write_text("complete")
            with ctx.file_output(".second.txt") as tmp:
                tmp.write_text("half")
                raise OSError("disk full")

    path = numbers_book(tmp_path / "in" / "a.xlsx")
    item = WorkItem(TwoOutputs, {}, (WorkFile(0, str(path), "a.xlsx"),), str(tmp_path / "out"), frozenset())
    outcome = process_file(item.files[0], item, lambda message: None, None)
    assert outcome.status == "failed"
    assert list((tmp_path / "out").iterdir()) == []
    assert os.listdir(tmp_path / "in") == ["a.xlsx"]
