"""Cell text as SpreadsheetML stores it: XML escaping plus the `_xHHHH_` escapes of ST_Xstring.

XML cannot carry most control characters, and an XML parser turns a stored carriage return into a
line feed, so Excel writes such characters as `_xHHHH_` (a carriage return is `_x000D_`), and an
underscore that starts such a sequence in the real text as `_x005F_`. Matching works on the decoded
text (what Excel shows); `encode_text()` writes it back the same way, so text a replacement did not
touch comes back as it was stored.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
# An underscore that would be read as the start of an escape: it is itself escaped as _x005F_.
_LITERAL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
# What XML 1.0 cannot hold, plus the carriage return that parsers would turn into a line feed.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0d\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_SPECIAL = re.compile(r"[&<>]")
_XML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_XML_WHITESPACE = " \t\n\r"


def decode_text(stored: str) -> str:
    """The text a cell shows, from the text of its XML element (entities already resolved)."""
    if "_x" not in stored:
        return stored
    return _ESCAPE.sub(lambda found: chr(int(found.group(1), 16)), stored)


def encode_text(text: str) -> str:
    """The XML element content that stores `text`: `_xHHHH_` escapes, then XML escaping."""
    if "_x" in text:
        text = _LITERAL_ESCAPE.sub("_x005F_", text)
    text = _UNSTORABLE.sub(lambda found: f"_x{ord(found.group()):04X}_", text)
    return _XML_SPECIAL.sub(lambda found: _XML_ENTITIES[found.group()], text)


def needs_preserve(text: str) -> bool:
    """Whether a `<t>` holding `text` needs xml:space="preserve" for readers to keep its spaces."""
    return bool(text) and (text[0] in _XML_WHITESPACE or text[-1] in _XML_WHITESPACE)
