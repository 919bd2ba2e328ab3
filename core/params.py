"""Typed task parameters: the specs a task declares, and validation of what a user typed.

A `Param` says what a task accepts (name, type, default, choices, help). The GUI builds its form from
these specs, `xlbatch tasks --json` lists them, and `validate_params()` turns raw values (strings from
the command line or a recipe, native values from the GUI or Python) into checked, typed values before
any file runs. Every refusal is an `InvalidParams` with a sentence naming the parameter and the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ParamType = Literal["bool", "int", "float", "str", "choice", "list", "file"]

_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n", ""}


class InvalidParams(ValueError):
    """A parameter value was refused; the message says which parameter and why."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Param:
    """One parameter of a task.

    `list` parameters hold strings; on the command line they are given comma-separated or by
    repeating `--param name=value`. A `file` parameter is the path of a file (text, like `str`): the GUI
    offers a file picker for it, limited to `extensions` when given.
    """

    name: str
    type: ParamType
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    label: str = ""  # shown in the GUI form; defaults to the name in words
    extensions: tuple[str, ...] = ()  # `file`: the file types it takes (".py"), for the picker

    @property
    def display_name(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def coerce(self, value: Any) -> Any:
        """Return `value` converted to this parameter's type, or raise InvalidParams."""
        name = self.name
        if value is None:
            if self.required:
                raise InvalidParams(f"Parameter '{name}' is required.", name)
            return self.default
        try:
            if self.type == "bool":
                if isinstance(value, bool):
                    return value
                text = str(value).strip().lower()
                if text in _TRUE:
                    return True
                if text in _FALSE:
                    return False
                raise InvalidParams(f"Parameter '{name}' must be true or false (got {value!r}).", name)
            if self.type == "int":
                if isinstance(value, bool):
                    raise ValueError
                number = int(value) if isinstance(value, int) else int(str(value).strip())
                return self._check_range(number)
            if self.type == "float":
                if isinstance(value, bool):
                    raise ValueError
                return self._check_range(float(value))
            if self.type == "choice":
                text = str(value).strip()
                for choice in self.choices:
                    if text.lower() == choice.lower():
                        return choice
                raise InvalidParams(
                    f"Parameter '{name}' must be one of {', '.join(self.choices)} (got {value!r}).", name
                )
            if self.type == "list":
                items = [str(v) for v in value] if isinstance(value, list | tuple) else str(value).split(",")
                items = [item.strip() for item in items if item.strip()]
                if self.required and not items:
                    raise InvalidParams(f"Parameter '{name}' needs at least one value.", name)
                return items
            text = str(value)
            if self.required and not text.strip():
                raise InvalidParams(f"Parameter '{name}' is required.", name)
            return text
        except InvalidParams:
            raise
        except (TypeError, ValueError):
            kind = "a whole number" if self.type == "int" else "a number"
            raise InvalidParams(f"Parameter '{name}' must be {kind} (got {value!r}).", name) from None

    def _check_range(self, number: float) -> Any:
        if self.minimum is not None and number < self.minimum:
            raise InvalidParams(
                f"Parameter '{self.name}' must be at least {self.minimum:g} (got {number:g}).", self.name
            )
        if self.maximum is not None and number > self.maximum:
            raise InvalidParams(
                f"Parameter '{self.name}' must be at most {self.maximum:g} (got {number:g}).", self.name
            )
        return number

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.display_name,
            "type": self.type,
            "default": self.default,
            "choices": list(self.choices),
            "minimum": self.minimum,
            "maximum": self.maximum,
            "required": self.required,
            "help": self.help,
            "extensions": list(self.extensions),
        }


@dataclass
class ParamSet:
    """Raw values collected from the command line: `NAME=VALUE` pairs, repeats kept for lists."""

    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_pairs(cls, pairs: list[str]) -> ParamSet:
        values: dict[str, Any] = {}
        for pair in pairs:
            name, sep, value = pair.partition("=")
            name = name.strip()
            if not sep or not name:
                raise InvalidParams(f"Parameters are given as NAME=VALUE (got {pair!r}).")
            if name in values:
                previous = values[name]
                values[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
            else:
                values[name] = value
        return cls(values)


def validate_params(specs: tuple[Param, ...], raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check `raw` against `specs`: refuse unknown names, coerce types, fill in defaults."""
    raw = dict(raw or {})
    known = {spec.name: spec for spec in specs}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        allowed = ", ".join(known) or "none"
        raise InvalidParams(f"Unknown parameter '{unknown[0]}'; this task accepts: {allowed}.", unknown[0])
    checked: dict[str, Any] = {}
    for spec in specs:
        value = raw.get(spec.name)
        if isinstance(value, list) and spec.type != "list":
            value = value[-1]  # a repeated scalar: the last one wins, as on most command lines
        checked[spec.name] = spec.coerce(value)
    return checked
