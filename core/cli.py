"""The command line: `xlbatch run`, `tasks`, `demo` (and `gui`, which the entry point hands to the app).

Exit status: 0 every file ok or skipped; 1 at least one file failed; 2 bad usage, unknown task or
invalid parameters (nothing run); 130 cancelled with Ctrl+C (first Ctrl+C: finish the running files;
second: stop now). The report is written in every case but 2.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from xlbatch import __version__
from xlbatch.cancel import FINISH, NOW, CancelToken
from xlbatch.events import Event
from xlbatch.executors import BACKENDS
from xlbatch.params import InvalidParams, ParamSet
from xlbatch.plan import DEFAULT_OUT_DIR, BatchSpec, plan_batch
from xlbatch.runner import REPORT_NAME, run_plan

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130

# gui_launcher(paths, screenshot, recipe=None, start=False, exit_when_done=False) opens the desktop app.
GuiLauncher = Callable[..., int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xlbatch",
        description="Run one task over many Excel workbooks in parallel.",
        epilog="Run without a command to open the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"xlbatch {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run a task over files and folders")
    run.add_argument("task", metavar="TASK", nargs="?", help="task name (see: xlbatch tasks)")
    run.add_argument("paths", metavar="PATH", nargs="*", help="workbooks or folders (searched recursively)")
    run.add_argument("--recipe", metavar="FILE", help="run a saved recipe (then every PATH given is an input)")
    run.add_argument("--out", metavar="DIR", help=f"output folder (default ./{DEFAULT_OUT_DIR})")
    run.add_argument("--workers", type=int, metavar="N", help="number of parallel workers (default: automatic)")
    run.add_argument(
        "--backend",
        choices=BACKENDS,
        metavar="NAME",
        help=f"how to run in parallel: {', '.join(BACKENDS)} (default auto, or as set in the settings)",
    )
    _cluster_options(run)
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="a task parameter")
    run.add_argument("--timeout", type=float, metavar="SECONDS", help="time limit per file")
    run.add_argument("--retries", type=int, default=0, metavar="N", help="re-run a crashed or timed-out file N times")
    run.add_argument("--include", action="append", default=[], metavar="GLOB", help="only files matching (repeatable)")
    run.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip files matching (repeatable)")
    run.add_argument("--report", metavar="FILE", help=f"where to write the report (default OUT/{REPORT_NAME})")
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted batch: keep the files it finished (same task, settings and output folder)",
    )
    run.add_argument("--force", action="store_true", help="process every file again, even unchanged ones")
    run.add_argument("--no-cache", action="store_true", help="do not skip unchanged files this time")
    run.add_argument(
        "--no-verify",
        action="store_true",
        help="do not read each output back to check it holds exactly what was written (faster, less safe)",
    )
    _config_option(run)
    run.add_argument(
        "--progress",
        default="bar",
        choices=("bar", "jsonl", "none"),
        help="progress on stderr as a bar (default), JSON lines on stdout, or none",
    )

    tasks = commands.add_parser("tasks", help="list the task types and their parameters")
    tasks.add_argument("--json", action="store_true", help="machine-readable output")

    demo = commands.add_parser("demo", help="summarize the bundled sample workbooks")
    demo.add_argument("--out", default=DEFAULT_OUT_DIR, metavar="DIR", help="output folder")

    config = commands.add_parser("config", help="show the settings and where they come from")
    config.add_argument("action", choices=("show", "path"), help="show: effective settings; path: the file")
    _config_option(config)

    cache = commands.add_parser("cache", help="what is remembered to skip unchanged files, and clearing it")
    cache.add_argument("action", choices=("info", "clear"))
    cache.add_argument("--out", default=DEFAULT_OUT_DIR, metavar="DIR", help="the output folder whose cache to use")
    _config_option(cache)

    from xlbatch.bench import add_bench_parser

    add_bench_parser(commands)

    _add_worker_parser(commands)

    gui = commands.add_parser("gui", help="open the desktop app")
    gui.add_argument("paths", metavar="PATH", nargs="*", help="files or folders to load")
    gui.add_argument("--screenshot", metavar="FILE", help="render the window to a PNG file and exit")
    gui.add_argument("--recipe", metavar="FILE", help="open the window with this saved recipe loaded")
    gui.add_argument("--start", action="store_true", help="start the recipe's batch at once (needs --recipe)")
    gui.add_argument(
        "--exit-when-done",
        action="store_true",
        help="close the window when the batch ends, with the exit status of `xlbatch run` (needs --start)",
    )
    return parser


def _cluster_options(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="with --backend dask: tcp://HOST:8786 (a running `dask scheduler`), local or local:N "
        "(N worker processes on this computer); default: as set in the settings, else local",
    )
    run.add_argument(
        "--shared-storage",
        action="store_true",
        default=None,
        help="with --backend dask: every machine sees the inputs and the output folder at the same paths "
        "(e.g. a network share), so paths are sent instead of the files' bytes",
    )


def _add_worker_parser(commands: Any) -> None:
    worker = commands.add_parser(
        "worker", help="start Dask workers on this computer for a scheduler (see: Running on several machines)"
    )
    worker.add_argument("address", metavar="ADDRESS", help="the scheduler, e.g. tcp://192.168.1.20:8786")
    worker.add_argument("--nworkers", type=int, metavar="N", help="worker processes (default: one per CPU core)")
    worker.add_argument(
        "--memory-limit",
        default="auto",
        metavar="SIZE",
        help="memory per worker, e.g. 4GB (default auto: the computer's memory shared by the workers)",
    )
    worker.add_argument(
        "--ports", type=int, metavar="START", help="worker i listens on START+2i, its nanny on START+2i+1 (firewalls)"
    )


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="settings file to use instead of the user's settings")


def _jsonl(stream: TextIO) -> Callable[[Event], None]:
    def write(event: Event) -> None:
        stream.write(json.dumps(event.to_dict(), ensure_ascii=False, default=str) + "\n")
        stream.flush()

    return write


def _to_stderr(text: str) -> None:
    sys.stderr.write(f"\n{text}\n")
    sys.stderr.flush()


def _install_ctrl_c(cancel: CancelToken, say: Callable[[str], None] = _to_stderr) -> Callable[[], None]:
    """First Ctrl+C: finish running files; second: stop now. Returns a function restoring the old handler.

    `say` tells the user what happens (the progress display prints it above its bar)."""

    def handler(signum: int, frame: Any) -> None:
        if cancel.mode is None:
            cancel.cancel(FINISH)
            say("Finishing the running files; press Ctrl+C again to stop now.")
        else:
            cancel.cancel(NOW)
            say("Stopping now.")

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (embedded use): no Ctrl+C handling
        return lambda: None
    return lambda: signal.signal(signal.SIGINT, previous)


def run_command(
    spec: BatchSpec, progress: str = "bar", stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        plan = plan_batch(spec)
    except InvalidParams as exc:
        stderr.write(f"xlbatch: {exc}\n")
        return EXIT_USAGE
    cancel = CancelToken()
    listener: Callable[[Event], None] | None = None
    bar = None
    if progress == "bar":
        from xlbatch.cli_progress import BarProgress  # rich is imported only for the bar

        listener = bar = BarProgress(stderr)
        restore = _install_ctrl_c(cancel, bar.say)
    else:
        if progress == "jsonl":
            listener = _jsonl(stdout)
        restore = _install_ctrl_c(cancel)
    try:
        report = run_plan(plan, listener, cancel)
    finally:
        restore()
        if bar is not None:
            bar.stop()
    if bar is not None:
        bar.summary(report, spec.report_path or str(Path(report.out_dir) / REPORT_NAME))
    return report.exit_code


def _tasks_command(as_json: bool, stdout: TextIO) -> int:
    from xlbatch.tasks import TASKS, load_plugins

    load_plugins()
    described = [cls.describe() for cls in TASKS.values()]
    if as_json:
        stdout.write(json.dumps(described, indent=2, ensure_ascii=False, default=str) + "\n")
        return EXIT_OK
    for task in described:
        stdout.write(f"{task['name']:<14} {task['title']}\n{'':<14} {task['description']}\n")
        for param in task["params"]:
            choices = f" ({'|'.join(param['choices'])})" if param["choices"] else ""
            stdout.write(
                f"{'':<16}--param {param['name']}=<{param['type']}{choices}>  default: "
                f"{param['default']!r}  {param['help']}\n"
            )
        stdout.write("\n")
    return EXIT_OK


def _fail(message: str) -> int:
    sys.stderr.write(f"xlbatch: {message}\n")
    return EXIT_USAGE


def _run_from_args(args: argparse.Namespace) -> int:
    from xlbatch.recipe import load_recipe, resolve_spec
    from xlbatch.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.config)
        recipe = load_recipe(args.recipe) if args.recipe else None
        params = ParamSet.from_pairs(args.param).values
    except (SettingsError, InvalidParams) as exc:
        return _fail(str(exc))
    _warn_about_recipe_script(recipe, params)
    positionals = [a for a in [args.task, *args.paths] if a]
    if recipe is not None:
        task, paths = None, positionals  # with a recipe every positional is an input
    else:
        if not positionals:
            return _fail("name a task and at least one file or folder: xlbatch run TASK PATH... (or --recipe FILE)")
        task, paths = positionals[0], positionals[1:]
        if not paths:
            return _fail(f"name at least one file or folder for the task '{task}'.")
    try:
        spec = resolve_spec(
            settings,
            recipe,
            task=task,
            paths=paths,
            out=args.out,
            params=params,
            backend=args.backend,
            workers=args.workers,
            timeout=args.timeout,
            include=args.include,
            exclude=args.exclude,
            retries=args.retries,
            report_path=args.report,
            resume=args.resume,
            force=args.force,
            verify=False if args.no_verify else None,
            keep_tables=False,  # report.tables is for the Python API; the command line never reads it
            cluster=args.cluster,
            shared_storage=args.shared_storage,
        )
    except InvalidParams as exc:
        return _fail(str(exc))
    if args.no_cache:
        spec.cache = False
    return run_command(spec, args.progress)


def _warn_about_recipe_script(recipe: Any, params: dict[str, Any]) -> None:
    """A recipe's script that changed since the recipe was saved is named on stderr; the batch still runs."""
    from xlbatch.recipe import script_warning
    from xlbatch.tasks import TASKS

    if recipe is None:
        return
    given_here = getattr(TASKS.get(recipe.task), "script_param", None) in params  # --param script=... wins
    warning = None if given_here else script_warning(recipe)
    if warning:
        sys.stderr.write(f"xlbatch: warning: {warning}\n")


def _config_command(args: argparse.Namespace, stdout: TextIO) -> int:
    from xlbatch.settings import SettingsError, default_path, load_settings

    if args.action == "path":
        stdout.write(f"{args.config or default_path()}\n")
        return EXIT_OK
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        return _fail(str(exc))
    exists = settings.path is not None and settings.path.is_file()
    stdout.write(f"# settings file: {settings.path}{'' if exists else ' (not created yet: all defaults)'}\n")
    for key, value, origin in settings.flat():
        stdout.write(f"{key} = {json.dumps(value)}    # {origin}\n")
    return EXIT_OK


def _cache_command(args: argparse.Namespace, stdout: TextIO) -> int:
    from xlbatch.journal import Journal
    from xlbatch.settings import SettingsError, load_settings

    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        return _fail(str(exc))
    journal = Journal(Path(args.out), settings.cache_dir())
    if args.action == "clear":
        count = journal.clear()
        stdout.write(f"Forgot {count} remembered file result(s) for {Path(args.out).resolve()}.\n")
        return EXIT_OK
    entries = journal.entries()
    stdout.write(f"output folder: {Path(args.out).resolve()}\n")
    stdout.write(f"cache: {'on' if settings.get('cache.enabled') else 'off'}, kept in {journal.folder}\n")
    stdout.write(f"remembered files: {len(entries)}\n")
    stdout.write(f"size: {journal.size() / 2**20:.1f} MB of {settings.get('cache.max_size_mb')} MB allowed\n")
    if entries:
        tasks = sorted({e.task for e in entries.values()})
        stdout.write(f"tasks: {', '.join(tasks)}\n")
    return EXIT_OK


def _worker_command(args: argparse.Namespace) -> int:
    from xlbatch.executors.choice import cpu_count
    from xlbatch.executors.dask_cluster import address_problem, is_local

    problem = address_problem(args.address)
    if problem is not None or is_local(args.address):
        return _fail(f"the scheduler's address must be tcp://HOST:PORT (got {args.address!r}).")
    if args.nworkers is not None and args.nworkers < 1:
        return _fail(f"--nworkers must be at least 1 (got {args.nworkers}).")
    if args.ports is not None and not 1 <= args.ports <= 65535 - 2 * (args.nworkers or cpu_count()):
        return _fail(f"--ports must leave room for every worker below 65536 (got {args.ports}).")
    from xlbatch.executors.dask_serve import memory_limit_problem, serve

    problem = memory_limit_problem(args.memory_limit)
    if problem is not None:
        return _fail(f"--memory-limit must be {problem}.")
    return serve(args.address.strip(), args.nworkers or cpu_count(), args.memory_limit, args.ports)


def main(argv: Sequence[str] | None = None, gui_launcher: GuiLauncher | None = None) -> int:
    """Run the CLI. `gui_launcher(paths, screenshot, ...)` opens the desktop app (for no command and `gui`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv:
        if gui_launcher is not None:
            return gui_launcher([], None)
        parser.print_help()
        return EXIT_OK
    args = parser.parse_args(argv)
    if args.command == "gui":
        if gui_launcher is None:
            sys.stderr.write("xlbatch: the desktop app is not available in this installation.\n")
            return EXIT_USAGE
        if args.start and not args.recipe:
            parser.error("--start needs --recipe FILE: the batch to start")
        if args.exit_when_done and not args.start:
            parser.error("--exit-when-done needs --start")
        return gui_launcher(
            list(args.paths),
            args.screenshot,
            recipe=args.recipe,
            start=args.start,
            exit_when_done=args.exit_when_done,
        )
    if args.command == "tasks":
        return _tasks_command(args.json, sys.stdout)
    if args.command == "demo":
        from xlbatch.bundle import samples_dir

        spec = BatchSpec(task="summarize", paths=[str(samples_dir())], out_dir=args.out, keep_tables=False)
        return run_command(spec)
    if args.command == "run":
        return _run_from_args(args)
    if args.command == "config":
        return _config_command(args, sys.stdout)
    if args.command == "bench":
        from xlbatch.bench import bench_command

        return bench_command(args)
    if args.command == "cache":
        return _cache_command(args, sys.stdout)
    if args.command == "worker":
        return _worker_command(args)
    parser.print_help()
    return EXIT_USAGE
