"""Where find & replace's `find` matches in a text, and what each match becomes.

The editor needs the matches themselves, not only the replaced text: inside rich text it must know
which formatted run each match falls in, and phonetic guides are kept only where no match touches
them. `Matcher.matches()` gives them as spans of the whole text; `Matcher.replace()` applies them.

The options keep their meaning: case-insensitive unless `match_case`; `whole_cell` matches only all
of the text; `regex` takes `find` as a Python regular expression and lets `replace` use \\1 or
\\g<name> (expanded against the whole text, so a group may cover several runs). Without `regex`,
`replace` is literal, backslashes included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Match:
    """One match: the characters [start, end) of the text become `replacement`."""

    start: int
    end: int
    replacement: str


class Matcher:
    """The matching options of one find & replace run, compiled once."""

    def __init__(self, params: dict[str, Any]) -> None:
        flags = 0 if params["match_case"] else re.IGNORECASE
        self._regex: bool = params["regex"]
        self._whole: bool = params["whole_cell"]
        self._replacement: str = params["replace"]
        find: str = params["find"]
        self._pattern = re.compile(find if self._regex else re.escape(find), flags)

    def matches(self, text: str) -> list[Match]:
        """Every match in `text`, in order and not overlapping (what `re.sub` would replace)."""
        if self._whole:
            found = self._pattern.fullmatch(text)
            return [self._match(found)] if found else []
        return [self._match(found) for found in self._pattern.finditer(text)]

    def _match(self, found: re.Match[str]) -> Match:
        replacement = found.expand(self._replacement) if self._regex else self._replacement
        return Match(found.start(), found.end(), replacement)

    def replace(self, text: str) -> tuple[str, int]:
        """`text` with every match replaced, and the number of matches."""
        found = self.matches(text)
        return apply_matches(text, found), len(found)


def apply_matches(text: str, matches: list[Match]) -> str:
    """`text` with each match's characters replaced by its replacement."""
    if not matches:
        return text
    parts: list[str] = []
    cursor = 0
    for match in matches:
        parts.append(text[cursor : match.start])
        parts.append(match.replacement)
        cursor = match.end
    parts.append(text[cursor:])
    return "".join(parts)
