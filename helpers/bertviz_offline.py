"""bertviz's attention views, working offline and fitting a notebook column.

    head_view(lm, "The cat sat on the mat")                  # lines from each token to the others
    model_view(lm, "The cat sat on the mat", include_layers=[2, 15, 29])   # a thumbnail per head

bertviz (https://github.com/jessevig/bertviz) loads require.js, d3 and jQuery from a CDN, which
fails without a network ("require is not defined"). This module is the plumbing that makes its
page self-contained: the lesson itself (what attention is) lives in helpers.attention.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import torch

from .attention import as_ids, attention_weights, check_layer_head, token_labels
from .escaping import script_code_safe

__all__ = ["head_view", "model_view", "offline_bertviz_html", "MAX_TOKENS"]

VENDOR = Path(__file__).resolve().parent / "vendor"
MAX_TOKENS = 64  # beyond this bertviz gets slow and its drawings unreadable

# bertviz draws the model view 970 px wide, wider than a notebook column on a 1280x720 screen,
# where its right-hand heads were cut off. After drawing, each fixed-size picture gets a viewBox
# and scales down to the column's width (never up); a scrollbar is the fallback.
_FIT_TO_WIDTH = """
(function (root) {
  if (!root) { return; }
  root.querySelectorAll("svg").forEach(function (svg) {
    var width = svg.getAttribute("width"), height = svg.getAttribute("height");
    if (!width || !height || /%/.test(width) || /%/.test(height)) { return; }
    svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    svg.setAttribute("width", "100%");
    svg.removeAttribute("height");
    svg.style.maxWidth = width + "px";
    svg.style.height = "auto";
  });
})(document.getElementById(ROOT_ID));
"""


def _vendored(name: str) -> str:
    return (VENDOR / name).read_text(encoding="utf-8")


def _module(source: str) -> str:
    # CommonJS wrapper: a library exports into `module` instead of a global; `define` is
    # shadowed so an AMD loader on the page never sees it.
    return ("(function (module, exports, define) {\n" + source
            + "\n})(__m = {exports: {}}, __m.exports);\n")


def offline_bertviz_html(html: str) -> str:
    """Make bertviz's `html_action="return"` page self-contained, and fit it to the column.

    The CDN script tag and the require.config go; the vendored d3 5.7.0 and jQuery 2.2.4 run
    as CommonJS modules inside one closure, with a tiny `requirejs` that hands them to
    bertviz's callback. No globals are touched, so a page that has its own require.js or
    jQuery (classic Notebook) is unaffected.
    """
    html = re.sub(r'<script src="https?://[^"]*"></script>', "", html)
    match = re.search(r'<script type="text/javascript">(.*)</script>', html, flags=re.S)
    root = re.search(r'<div id="(bertviz-[0-9a-f]+)"', html)
    if match is None or root is None:
        raise RuntimeError("Unexpected bertviz output: no inline script or root div found "
                           "(bertviz version changed?).")
    vis_js = re.sub(r"require\.config\(\{.*?\}\s*\}\);", "", match.group(1), count=1, flags=re.S)
    script = (
        "(function () {\n"
        "var __m, __modules = {};\n"
        + _module(_vendored("jquery-2.2.4.min.js")) + "__modules.jquery = __m.exports;\n"
        + _module(_vendored("d3-5.7.0.min.js")) + "__modules.d3 = __m.exports;\n"
        "function requirejs(names, callback) {\n"
        "  callback.apply(null, names.map(function (name) { return __modules[name]; }));\n"
        "}\n"
        "var require = requirejs;\n"
        + vis_js + "\n"
        + _FIT_TO_WIDTH.replace("ROOT_ID", f'"{root.group(1)}"') + "})();\n"
    )
    script = script_code_safe(script)  # token text like '<!--<script>' cannot end it early
    page = (html[: match.start()] + '<script type="text/javascript">\n' + script + "</script>"
            + html[match.end():])
    return f'<div style="max-width:100%;overflow:auto">{page}</div>'


def _bertviz_inputs(lm, text_or_ids) -> tuple[list[torch.Tensor], list[str]]:
    ids = as_ids(lm, text_or_ids)
    if len(ids) > MAX_TOKENS:
        raise ValueError(f"The text is {len(ids)} tokens; bertviz gets slow and unreadable beyond "
                         f"{MAX_TOKENS}: use a shorter text.")
    # 3 decimals in float64 print short in bertviz's JSON: a page several times smaller.
    weights = (attention_weights(lm, ids).double() * 1000).round() / 1000
    return [w[None] for w in weights], token_labels(lm, ids)


def _check_layers(lm, layers: Sequence[int] | None) -> list[int] | None:
    if layers is None:
        return None
    layers = [int(layer) for layer in layers]
    for layer in layers:
        check_layer_head(lm, layer)
    return layers


def head_view(lm, text_or_ids, layer: int | None = None, heads: Sequence[int] | None = None,
              include_layers: Sequence[int] | None = None):
    """bertviz's head view (lines from each token to the tokens it attends to), offline."""
    from bertviz import head_view as bertviz_head_view
    from IPython.display import HTML

    attention, tokens = _bertviz_inputs(lm, text_or_ids)
    include_layers = _check_layers(lm, include_layers)
    if layer is not None:
        check_layer_head(lm, layer)
        if include_layers is not None and layer not in include_layers:
            raise ValueError(f"layer {layer} is not among include_layers {include_layers}.")
    for head in heads or []:
        check_layer_head(lm, 0, int(head))
    html = bertviz_head_view(attention, tokens, prettify_tokens=False, layer=layer,
                             heads=list(heads) if heads is not None else None,
                             include_layers=include_layers, html_action="return")
    return HTML(offline_bertviz_html(html.data))


def model_view(lm, text_or_ids, include_layers: Sequence[int] | None = None,
               include_heads: Sequence[int] | None = None, display_mode: str = "light"):
    """bertviz's model view (a thumbnail per layer and head), offline, fitted to the column.

    Keep the text short and pick a few layers: it draws layers × heads small pictures.
    """
    from bertviz import model_view as bertviz_model_view
    from IPython.display import HTML

    attention, tokens = _bertviz_inputs(lm, text_or_ids)
    include_layers = _check_layers(lm, include_layers)
    for head in include_heads or []:
        check_layer_head(lm, 0, int(head))
    heads = list(include_heads) if include_heads is not None else None
    html = bertviz_model_view(attention, tokens, prettify_tokens=False, display_mode=display_mode,
                              include_layers=include_layers, include_heads=heads,
                              html_action="return")
    return HTML(offline_bertviz_html(html.data))
