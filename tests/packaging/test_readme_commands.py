"""The README's first two commands, read as text, and the CI script that runs the second of them.

On Debian 12 and Ubuntu 24.04 the system Python refuses `pip install` (PEP 668): each command must make
and use a virtual environment itself, on one line, and CI must run the test command as the README
writes it, so a change to one shows in the other.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.packaging.conftest import ROOT


def first_bash_block() -> list[str]:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index("```bash") + 1
    end = lines.index("```", start)
    return lines[start:end]


def test_the_readme_starts_with_two_one_line_commands():
    block = first_bash_block()
    assert len(block) == 2, block
    for command in block:
        assert "python3 -m venv .venv" in command, command
        # Nothing installs into, or runs from, the system Python once the environment exists.
        after = command.split("python3 -m venv", 1)[1]
        assert "pip install" not in after.replace(".venv/bin/pip install", ""), command
    run, test = block
    assert run.endswith(".venv/bin/pip install -e . && .venv/bin/xlbatch demo")
    assert test.startswith("bash .ci/system-packages.sh && ")
    assert test.endswith('.venv/bin/pip install -e ".[test]" && .venv/bin/python -m pytest')


def test_the_first_command_installs_python3_venv_only_when_venv_fails():
    run = first_bash_block()[0]
    assert run.startswith("(python3 -m venv .venv || (bash .ci/system-packages.sh python3-venv && ")
    script = (ROOT / ".ci" / "system-packages.sh").read_text(encoding="utf-8")
    assert '[ $# -gt 0 ] && packages=("$@")' in script
    assert "python3-venv" in script.split("packages=(", 1)[1].split(")", 1)[0]  # the test command's too


def test_ci_runs_the_readme_test_command_as_written():
    if shutil.which("bash") is None or shutil.which("awk") is None:
        pytest.skip("needs bash and awk")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    extract = next(line for line in ci.splitlines() if line.startswith("readme_test=$("))
    assert 'bash -c "$readme_test"' in ci
    done = subprocess.run(
        ["bash", "-c", f'{extract}\nprintf "%s" "$readme_test"'], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == first_bash_block()[1]
    assert "export PYTHON=$PWD/.venv/bin/python" in ci  # the build steps use the same environment
