"""Shared test set-up: Qt renders offscreen, and every batch's inputs are checked to stay unchanged."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any QApplication exists: no display on CI machines.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def hash_tree(root: Path) -> dict[str, str]:
    """sha256 of every file below `root`, keyed by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Tests never read or write the developer's own settings file."""
    path = tmp_path_factory.mktemp("config") / "settings.yaml"
    monkeypatch.setenv("XLBATCH_CONFIG", str(path))
    return path


@pytest.fixture
def frozen_inputs() -> Iterator[list[Path]]:
    """Register input folders; after the test, each must be byte-identical to what it was."""
    roots: list[Path] = []
    before: dict[Path, dict[str, str]] = {}

    class Registry(list):
        def append(self, root: Path) -> None:  # type: ignore[override]
            before[root] = hash_tree(root)
            super().append(root)

    registry = Registry()
    yield registry
    for root in registry:
        assert hash_tree(root) == before[root], f"inputs under {root} were modified"
    del roots
