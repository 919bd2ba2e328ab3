"""Loads the packaging helpers by path: the folder is called `packaging`, like the PyPI library."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load(name: str, relative: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and the like look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def support() -> ModuleType:
    return load("xlbatch_spec_support", "packaging/spec_support.py")


@pytest.fixture(scope="session")
def version_info() -> ModuleType:
    return load("xlbatch_version_info", "packaging/windows/version_info.py")
