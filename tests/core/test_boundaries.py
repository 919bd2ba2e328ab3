"""The engine's boundaries: core never imports Qt; the task registry and parameters behave as promised."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import xlbatch
from xlbatch.params import InvalidParams, Param, ParamSet, validate_params
from xlbatch.tasks import TASKS, Task, get_task
from xlbatch.tasks.registry import UnknownTask, register, unregister

REPO = Path(__file__).resolve().parents[2]


def test_every_core_module_imports_without_qt() -> None:
    modules = [m.name for m in pkgutil.walk_packages(xlbatch.__path__, "xlbatch.") if not m.name.endswith("__main__")]
    code = (
        "import sys, importlib; sys.modules['PySide6'] = None; sys.modules['xlbatch.gui'] = None\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "assert not any(m.startswith(('PySide6.', 'shiboken')) for m in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert len(modules) > 20


def test_builtin_tasks_are_registered_with_complete_metadata() -> None:
    assert list(TASKS)[:8] == [
        "summarize",
        "convert",
        "combine",
        "split",
        "clean",
        "extract",
        "find_replace",
        "validate",
    ]
    for cls in TASKS.values():
        described = cls.describe()
        assert described["title"] and described["description"] and described["kind"] in ("cpu", "io")


def test_register_refuses_a_clash_unless_asked() -> None:
    class Mine(Task):
        name = "summarize"

    with pytest.raises(ValueError):
        register(Mine)
    original = get_task("summarize")
    register(Mine, clobber=True)
    try:
        assert get_task("summarize") is Mine
    finally:
        register(original, clobber=True)
    with pytest.raises(UnknownTask):
        get_task("does-not-exist")
    unregister("does-not-exist")


def test_plugins_register_through_the_entry_point_group(monkeypatch: pytest.MonkeyPatch) -> None:
    import xlbatch.tasks.registry as registry

    class Plugin(Task):
        name = "plugin-task"
        title = "Plugin"
        description = "From a third-party package."

    class EntryPoint:
        name = "plugin-task"

        def load(self):
            return Plugin

    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry.metadata, "entry_points", lambda group: [EntryPoint()])
    try:
        assert registry.load_plugins() == ["plugin-task"]
        assert get_task("plugin-task") is Plugin
    finally:
        unregister("plugin-task")


@pytest.mark.parametrize(
    ("spec", "raw", "expected"),
    [
        (Param("n", "int", 1, minimum=1), "5", 5),
        (Param("f", "float", 0.0), "2.5", 2.5),
        (Param("b", "bool", False), "yes", True),
        (Param("b", "bool", True), "off", False),
        (Param("c", "choice", "xlsx", choices=("xlsx", "csv")), "CSV", "csv"),
        (Param("l", "list", []), "a, b,,c", ["a", "b", "c"]),
        (Param("l", "list", []), ["x", "y"], ["x", "y"]),
        (Param("s", "str", ""), None, ""),
    ],
)
def test_params_are_coerced_from_text(spec: Param, raw, expected) -> None:
    assert validate_params((spec,), {spec.name: raw} if raw is not None else {}) == {spec.name: expected}


@pytest.mark.parametrize(
    ("spec", "raw", "phrase"),
    [
        (Param("n", "int", 1, minimum=1), "0", "'n' must be at least 1"),
        (Param("n", "int", 1), "many", "'n' must be a whole number"),
        (Param("b", "bool", False), "perhaps", "'b' must be true or false"),
        (Param("c", "choice", "a", choices=("a", "b")), "z", "'c' must be one of a, b"),
        (Param("s", "str", "", required=True), None, "'s' is required"),
    ],
)
def test_invalid_params_name_the_parameter_and_the_reason(spec: Param, raw, phrase: str) -> None:
    with pytest.raises(InvalidParams) as caught:
        validate_params((spec,), {spec.name: raw})
    assert phrase in str(caught.value)
    assert caught.value.param == spec.name


def test_repeated_params_collect_into_lists() -> None:
    assert ParamSet.from_pairs(["f=a", "f=b", "g=1"]).values == {"f": ["a", "b"], "g": "1"}
