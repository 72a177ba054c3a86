"""Putting data into HTML safely: JSON inside a <script> element, names inside attributes.

    <script type='application/json'>{script_json(data)}</script>
    f"<a href='{href(file_name)}'>{html.escape(title)}</a>"

Inside <script> the browser does not read HTML entities, but it still looks for `</script`,
and `<!--` followed by `<script` switches it into a state where the element only ends at a
second `</script>`: a prompt containing `<!--<script>` would swallow the rest of the page.
So `script_json` writes every `<`, `>` and `&` as a JSON escape (\\u003c, \\u003e, \\u0026),
which JSON.parse reads back as the same characters; U+2028 and U+2029 too, which older
JavaScript parsers take for line ends. These characters only ever occur inside JSON strings,
so the escaped text is the same JSON value.
"""

from __future__ import annotations

import html
import json
import re
from urllib.parse import quote

__all__ = ["script_json", "script_safe", "script_code_safe", "href"]

_SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                   "\u2028": "\\u2028", "\u2029": "\\u2029"}
_SCRIPT_TABLE = str.maketrans(_SCRIPT_ESCAPES)


def script_safe(json_text: str) -> str:
    """JSON text made safe to sit inside a <script> element (the same JSON value)."""
    return json_text.translate(_SCRIPT_TABLE)


def script_json(data) -> str:
    """`data` as compact JSON that can sit inside a <script> element."""
    return script_safe(json.dumps(data, ensure_ascii=False, separators=(",", ":")))


_SCRIPT_MARKUP = re.compile(r"<(!--|/?script)", re.IGNORECASE)


def script_code_safe(js: str) -> str:
    """JavaScript source (with data written into its string literals) made safe to sit inside
    a <script> element: in every `<!--`, `<script` and `</script` the character after `<` is
    written as a \\xHH escape, which is the same character in a string, template or regular
    expression literal (the only places such text occurs in valid code)."""
    return _SCRIPT_MARKUP.sub(
        lambda m: f"<\\x{ord(m.group(1)[0]):02x}{m.group(1)[1:]}", js)


def href(file_name: str) -> str:
    """A file name as a relative link inside a quoted HTML attribute: percent-encoded as a URL
    (so '#' or '?' in the name stay part of it), then HTML-escaped."""
    return html.escape(quote(file_name), quote=True)
