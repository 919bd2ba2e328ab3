"""The `python` task ("Run my own function"): the user's pandas function over every workbook, on the same
parallel engine as every other task.

The script defines one of

    def process(df, context)                -> DataFrame | dict | None     called for every sheet read
    def process_workbook(sheets, context)   -> DataFrame | dict | None     called once per file, with
                                                                            {sheet name: DataFrame}

Data flow:

    parent, validate():  the script checked (xlbatch.user_script): exists, compiles, one function with a
                         fitting signature; its path, SHA-256 and source join the checked parameters, so
                         workers load exactly what was checked, and a changed script changes the cache key
    worker, process():   the script loaded once per worker process; each sheet read with xlbatch's reader
                         below `header_row` into a DataFrame (xlbatch.frames: the types every task sees);
                         the function called in a guard (xlbatch.script_run); what it returned:
                           a DataFrame  output=per_file: <stem>.xlsx (a sheet per sheet read) or .csv,
                                        through ctx.file_output (atomic, checked); output=combined: rows in a
                                        part file for reduce; output=none: not written (a warning says so)
                           a dict       the file's result in report.json (for sheet=* with process(), one
                                        dict per sheet, by sheet name), and a row of results.xlsx
                           None         the function did its own work (context.output_path)
    parent, reduce():    results.xlsx|csv from the dicts; combined.xlsx|csv from the parts, with Source
                         file (and Source sheet) columns (xlbatch.script_outputs)

pandas is imported in the worker when the first file runs, never when xlbatch starts.
"""

from __future__ import annotations

import contextlib
from typing import Any

from xlbatch import script_template, user_script
from xlbatch.cost import WorkCost
from xlbatch.outcome import FileOutcome
from xlbatch.params import InvalidParams, Param
from xlbatch.preflight import SourceFile
from xlbatch.tasks import common_params
from xlbatch.tasks.base import FileContext, OutputFolder, Task
from xlbatch.tasks.registry import register

OUTPUTS = ("per_file", "combined", "none")
ALL_SHEETS = {"*", "all"}
# Parameters the task adds when it checks the script: what workers need to load exactly the checked code.
SHA256, SOURCE, FUNCTION = "script_sha256", "script_source", "script_function"
DERIVED = (SHA256, SOURCE, FUNCTION)


def by_sheet(params: dict[str, Any]) -> bool:
    """Whether a file's result holds one dict per sheet (process() over every sheet) rather than one dict."""
    return params[FUNCTION] == user_script.PER_SHEET and params["sheet"].strip().lower() in ALL_SHEETS


@register
class PythonScript(Task):
    name = "python"
    title = "Run my own function"
    description = (
        "Run your own Python function (pandas) on every workbook: process(df, context) per sheet or "
        "process_workbook(sheets, context) per file; tables and results are collected for you."
    )
    kind = "cpu"
    # Building the DataFrames holds Python's lock; what the user's function costs is anyone's guess.
    cost = WorkCost(seconds_per_mb=1.0, seconds_per_file=0.01, lock_free=0.2)
    version = 1
    script_param = user_script.PARAM
    script_template = script_template.STARTER
    params = (
        Param(
            "script",
            "file",
            "",
            "Your Python script (.py), defining process(df, context) or process_workbook(sheets, context).",
            required=True,
            extensions=(".py",),
        ),
        common_params.sheet("The sheet to read: a name, a 1-based position, or * for every sheet."),
        common_params.header_row("The row that holds the column names; rows above it are not read."),
        Param(
            "output",
            "choice",
            "per_file",
            "Where the tables your function returns go: per_file (one file per input, mirroring its folder), "
            "combined (one table, with source columns) or none (your function writes its own outputs).",
            choices=OUTPUTS,
        ),
        common_params.output_format("The format of the tables written (results, per-file or combined)."),
    )

    @classmethod
    def validate(cls, raw: dict[str, Any] | None) -> dict[str, Any]:
        """The parameters checked, the script too, with what workers need to run it (see DERIVED)."""
        given = {key: value for key, value in (raw or {}).items() if key not in DERIVED}
        checked = super().validate(given)
        script = user_script.check_script(checked["script"])
        checked.update({"script": script.path, SHA256: script.sha256, SOURCE: script.source, FUNCTION: script.function})
        return checked

    @classmethod
    def check(cls, params: dict[str, Any]) -> None:
        if not params["sheet"].strip():
            raise InvalidParams("Parameter 'sheet' needs a sheet name, a position, or * for every sheet.", "sheet")

    @classmethod
    def report_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in params.items() if key != SOURCE}  # the digest names the code

    # -- worker ----------------------------------------------------------------------------------
    def process(self, source: SourceFile, params: dict[str, Any], ctx: FileContext) -> dict[str, Any]:
        from xlbatch import script_outputs  # imports pandas: only once a file runs
        from xlbatch.script_run import ScriptContext, call_user
        from xlbatch.workbook import open_workbook

        script = user_script.load_script(params["script"], params[SOURCE], params[SHA256], params[FUNCTION])
        with open_workbook(source) as book, contextlib.ExitStack() as own_outputs:
            wanted = params["sheet"].strip()
            names = book.sheet_names if wanted.lower() in ALL_SHEETS else [book.resolve_sheet(wanted)]
            context = ScriptContext(ctx, own_outputs)
            returned: list[tuple[str | None, Any]] = []
            if script.name == user_script.PER_SHEET:
                for position, sheet in enumerate(names):
                    ctx.progress(position / len(names), f"sheet {sheet}")
                    df = script_outputs.read_frame(book, sheet, params["header_row"], ctx)
                    context._call_for(sheet, position / len(names), 1 / len(names))
                    returned.append((sheet, call_user(script, (df, context), ctx)))
            else:
                sheets = {sheet: script_outputs.read_frame(book, sheet, params["header_row"], ctx) for sheet in names}
                returned.append((None, call_user(script, (sheets, context), ctx)))
            kept = script_outputs.sort_returns(script.name, returned)
            script_outputs.write_file_outputs(kept.frames, params, source, ctx)
        ctx.progress(1.0)
        return kept.result(by_sheet(params))

    # -- parent ----------------------------------------------------------------------------------
    def reduce(self, outcomes: list[FileOutcome], params: dict[str, Any], out: OutputFolder) -> None:
        from xlbatch import script_tables

        try:
            script_tables.write_results(outcomes, params, by_sheet(params), out)
            if params["output"] == "combined":
                script_tables.write_combined(outcomes, params, params[FUNCTION] == user_script.PER_SHEET, out)
        finally:
            script_tables.remove_parts(outcomes, out)
