"""Which processes the smoke test counts as its program's copies, and may stop.

On a shared machine other bundles of xlbatch run at the same time (someone else's `xlbatch`, another
`xlbatch.exe`): the smoke test counts and stops only processes of the very program file it started,
as the system shows them natively and as Wine shows them (the Windows path on drive Z:).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.packaging.conftest import load


@pytest.fixture(scope="module")
def smoke():
    return load("xlbatch_smoke", "packaging/ci/smoke.py")


@pytest.mark.skipif(os.name == "nt", reason="the Linux and Wine forms of a path")
def test_the_program_is_known_by_its_path_natively_and_under_wine(smoke):
    gui = Path("/tmp/build-a/dist/xlbatch/xlbatch.exe")
    wine = {"name": "xlbatch.exe", "cmdline": ["Z:\\tmp\\build-a\\dist\\xlbatch\\xlbatch.exe --recipe Z:\\m.yaml   "]}
    worker = {"cmdline": ["Z:\\tmp\\build-a\\dist\\xlbatch\\xlbatch.exe", "--multiprocessing-fork", "parent_pid=260"]}
    quoted = {"cmdline": ['"Z:\\tmp\\build-a\\dist\\xlbatch\\xlbatch.exe" --start']}
    for info in (wine, worker, quoted):
        assert smoke.is_program(info, gui), info
    native = Path("/tmp/build-a/dist/xlbatch/xlbatch")
    assert smoke.is_program({"name": "xlbatch", "cmdline": [str(native), "--screenshot", "x.png"]}, native)


@pytest.mark.skipif(os.name == "nt", reason="the Linux and Wine forms of a path")
def test_another_bundle_of_the_same_name_is_not_counted(smoke):
    gui = Path("/tmp/build-a/dist/xlbatch/xlbatch.exe")
    others = [
        {"name": "xlbatch", "cmdline": ["/tmp/someone/linux-build/dist/xlbatch/xlbatch", "--screenshot", "w.png"]},
        {"name": "xlbatch.exe", "cmdline": ["Z:\\tmp\\build-b\\dist\\xlbatch\\xlbatch.exe --recipe r.yaml"]},
        {"name": "xlbatch.exe", "cmdline": ["Z:\\tmp\\build-a\\dist\\xlbatch\\xlbatch.exe.bak"]},
        {"name": "bash", "cmdline": ["bash", "/kit/wine-run.sh", "/tmp/build-a/dist/xlbatch/xlbatch.exe"]},
        {"name": "xlbatch.exe", "cmdline": []},
    ]
    for info in others:
        assert not smoke.is_program(info, gui), info
