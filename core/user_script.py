"""The user's own Python script for the `python` task: checked before the batch, loaded once per worker.

    check_script(path)  in the parent, before any file runs: the file exists, compiles (a syntax error
                        names its line), and defines exactly one of
                            def process(df, context)            called per sheet
                            def process_workbook(sheets, context)   called per file
                        with a signature that takes those two arguments. Nothing of it runs here.
    load_script(...)    in a worker: the module, compiled and run once per worker process (cached by the
                        script's SHA-256), from the file when the worker sees it unchanged, else from the
                        source the parameters carry (a worker on a machine that cannot see the path).

The script is the user's own code and runs with the user's rights, like any script they run themselves.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import linecache
import sys
import threading
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlbatch import errors
from xlbatch.errors import TaskFailure
from xlbatch.params import InvalidParams

PER_SHEET = "process"
PER_WORKBOOK = "process_workbook"
FUNCTIONS = {PER_SHEET: "df", PER_WORKBOOK: "sheets"}  # each function's first argument
PARAM = "script"
MAX_SCRIPT_BYTES = 5 * 2**20  # a script is code, not data: past this it is refused
MODULE_PREFIX = "xlbatch_user_script_"
CACHE_SIZE = 8  # scripts kept loaded per process (the app runs edited versions one after another)


@dataclass(frozen=True)
class CheckedScript:
    """A script that passed the checks: where it is, its text and digest, and which function it defines."""

    path: str
    source: str
    sha256: str
    function: str  # PER_SHEET or PER_WORKBOOK


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _refuse(message: str) -> InvalidParams:
    return InvalidParams(message, PARAM)


def read_script(value: str) -> tuple[Path, bytes]:
    """The script's absolute path and bytes; InvalidParams (at the script field) when it cannot be read."""
    if not value.strip():
        raise _refuse("Choose the Python script to run (a .py file).")
    path = Path(value.strip()).expanduser()
    with contextlib.suppress(OSError):  # a path that cannot be resolved is refused below as it was given
        path = path.resolve()
    if not path.is_file():
        raise _refuse(f"The script {path} does not exist." if not path.exists() else f"{path} is not a file.")
    if path.suffix.lower() != ".py":
        raise _refuse(f"The script must be a Python file ending in .py ({path.name} is not).")
    try:
        if path.stat().st_size > MAX_SCRIPT_BYTES:
            raise _refuse(f"The script {path.name} is larger than 5 MB; a script is code, not data.")
        return path, path.read_bytes()
    except OSError as exc:
        raise _refuse(f"The script {path} cannot be read: {exc.strerror or exc}.") from None


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(f"The script {path.name} is not UTF-8 text (byte {exc.start + 1}); save it as UTF-8.") from None


def check_script(value: str) -> CheckedScript:
    """Everything that can be checked without running the script; InvalidParams naming the problem."""
    path, data = read_script(value)
    source = _decode(path, data)
    try:
        compile(source, str(path), "exec", dont_inherit=True)
        tree = ast.parse(source, str(path))
    except SyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else "its start"
        raise _refuse(f"The script {path.name} has a syntax error at {where}: {exc.msg}.") from None
    except ValueError as exc:  # a NUL byte in the source
        raise _refuse(f"The script {path.name} cannot be compiled: {exc}.") from None
    function = _the_function(tree, path.name)
    return CheckedScript(str(path), source, digest(data), function)


def _the_function(tree: ast.Module, name: str) -> str:
    """Which of the two functions the script defines at its top level (exactly one, compatible)."""
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        for bound in _names_bound(node):
            if bound in FUNCTIONS:
                found[bound] = node
    if len(found) == 2:
        raise _refuse(
            f"The script {name} defines both process() and process_workbook(); keep one: process(df, context) "
            "runs for every sheet, process_workbook(sheets, context) once per workbook."
        )
    if not found:
        raise _refuse(
            f"The script {name} defines neither process(df, context) nor process_workbook(sheets, context); "
            "define one of them at the top level of the script."
        )
    ((function, node),) = found.items()
    if isinstance(node, ast.AsyncFunctionDef):
        raise _refuse(f"In {name}, {function}() is 'async def'; make it a plain 'def'.")
    if isinstance(node, ast.FunctionDef):
        problem = signature_problem(function, node.args)
        if problem:
            raise _refuse(f"In {name} (line {node.lineno}), {problem}")
    return function


def _names_bound(node: ast.stmt) -> list[str]:
    """The names a top-level statement binds (def, assignment, import)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    if isinstance(node, ast.ImportFrom | ast.Import):
        return [(alias.asname or alias.name).split(".")[0] for alias in node.names]
    return []


def signature_problem(function: str, args: ast.arguments) -> str | None:
    """Why a def cannot be called as function(first, context), or None."""
    positional = [*args.posonlyargs, *args.args]
    required = len(positional) - len(args.defaults)
    kw_required = [a.arg for a, default in zip(args.kwonlyargs, args.kw_defaults, strict=True) if default is None]
    takes_two = len(positional) >= 2 or args.vararg is not None
    if takes_two and required <= 2 and not kw_required:
        return None
    shown = ast.unparse(args)
    return (
        f"{function}() must take two arguments, ({FUNCTIONS[function]}, context); it is defined as "
        f"{function}({shown})."
    )


# -- in the worker ---------------------------------------------------------------------------------
@dataclass
class LoadedScript:
    module: types.ModuleType
    function: Callable[..., Any]
    name: str  # PER_SHEET or PER_WORKBOOK
    path: str  # the file name tracebacks carry


_loaded: dict[str, LoadedScript | TaskFailure] = {}
_lock = threading.Lock()  # threads of one batch share the cache: the script runs once per process


def load_script(path: str, source: str, sha256: str, function: str) -> LoadedScript:
    """The script's module (run once per process and cached); TaskFailure when running it fails."""
    with _lock:
        cached = _loaded.get(sha256)
        if cached is None:
            cached = _load(path, source, sha256, function)
            _loaded[sha256] = cached
            while len(_loaded) > CACHE_SIZE:
                _loaded.pop(next(iter(_loaded)))
    if isinstance(cached, TaskFailure):
        raise TaskFailure(cached.error.kind, cached.error.message, cached.error.detail)
    return cached


def _current_text(path: str, sha256: str) -> str | None:
    """The file's text when this worker sees it as it was checked, else None (then the carried source runs)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    return data.decode("utf-8-sig") if digest(data) == sha256 else None


def _load(path: str, source: str, sha256: str, function: str) -> LoadedScript | TaskFailure:
    text = _current_text(path, sha256) or source
    # Tracebacks show the script's lines even where the file cannot be read, or changed since the check.
    linecache.cache[path] = (len(text), None, text.splitlines(keepends=True), path)
    name = MODULE_PREFIX + sha256[:16]
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module  # dataclasses and pickling look classes up by their module
    try:
        exec(compile(text, path, "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - the user's own script
    except SystemExit as exc:
        sys.modules.pop(name, None)
        return TaskFailure(
            errors.CRASHED, f"The script ended the program while loading (sys.exit({exc.code!r})).", trace(exc, path)
        )
    except Exception as exc:  # noqa: BLE001 - any fault of the script's top-level code is reported per file
        sys.modules.pop(name, None)
        return TaskFailure(
            errors.TASK_ERROR, f"The script could not be loaded: {failure_text(exc, path)}", trace(exc, path)
        )
    found = module.__dict__.get(function)
    if not callable(found):
        sys.modules.pop(name, None)
        return TaskFailure(errors.TASK_ERROR, f"The script does not define {function}() as a function.", path)
    return LoadedScript(module, found, function, path)


def script_line(exc: BaseException, path: str) -> int | None:
    """The line of the script where `exc` happened: the deepest frame of the traceback in the script."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == path:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def exception_text(exc: BaseException, limit: int = 200) -> str:
    """"KeyError 'Amount'": the exception's class and its own words, cut to `limit` characters."""
    words = str(exc).strip().replace("\n", " ")
    text = f"{type(exc).__name__} {words}" if words else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def failure_text(exc: BaseException, path: str) -> str:
    line = script_line(exc, path)
    return f"line {line}: {exception_text(exc)}" if line else exception_text(exc)


def trace(exc: BaseException, path: str) -> str:
    """The traceback from the script's first frame on (the engine's own frames above it say nothing)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != path:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
