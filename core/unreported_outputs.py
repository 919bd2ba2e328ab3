"""Outputs a worker put in place for a file it has not reported yet, so the parent can take them back.

A worker sends `output` just before each output is renamed into place (xlbatch.atomic) and `done` once
the file is finished, its outcome listing what it kept (a failed or cancelled file keeps nothing: the
worker removes its outputs itself). A worker killed or dead in between cannot: stop now, a time limit or
the memory budget killed it, or it crashed. Then the parent settles the file (or runs it again) and
removes what that worker had put in place, so the output folder holds exactly what the report lists.
"""

from __future__ import annotations

from collections.abc import Iterable

from xlbatch.atomic import Identity, remove_if_unchanged


class UnreportedOutputs:
    """Per file index: the outputs (path, identity) its current worker announced and has not reported."""

    def __init__(self) -> None:
        self._by_index: dict[int, list[tuple[str, Identity]]] = {}

    def add(self, index: int, path: str, identity: Identity | None) -> None:
        if identity is not None:
            self._by_index.setdefault(index, []).append((path, identity))

    def reported(self, index: int) -> None:
        """The worker reported the file: its outcome accounts for every output it put in place."""
        self._by_index.pop(index, None)

    def discard(self, index: int, keep: Iterable[str] = ()) -> list[str]:
        """Remove the file's unreported outputs, except those in `keep` (the outcome's own); return them."""
        kept = set(keep)
        return [
            path
            for path, identity in self._by_index.pop(index, [])
            if path not in kept and remove_if_unchanged(path, identity)
        ]
