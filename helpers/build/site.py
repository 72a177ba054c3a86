"""The offline HTML edition: every notebook, executed, as a static site that opens from disk.

    python -m helpers site --out build/site                    # all notebooks (~8 min on 2 cores)
    python -m helpers site --out build/site 00_the_clock 06_tick_by_tick

Why nbconvert with a small template, not Jupyter Book: nbconvert is already installed with
JupyterLab (no new toolchain), renders the notebooks exactly as JupyterLab's HTML export does,
and its output is plain HTML we can post-process; the only parts that needed the network are
swapped for local ones:
  * plotly figures: plotly.js is copied once into the site (assets/plotly.min.js, from the
    installed plotly package) instead of a CDN; each figure's JSON sits in the page;
  * widgets have no kernel to talk to, so each is replaced by a snapshot of its state at the end
    of the run, taken in the kernel that ran the notebook: the clock widget becomes the trace
    player (helpers.trace: replays every tick it ran), other widgets a static copy of their
    controls, text and figures;
  * math is converted to MathML at build time (latex2mathml), which browsers draw natively,
    instead of loading MathJax; require.js, mermaid and the widget manager are left out.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..escaping import href, script_safe

__all__ = ["build_site", "widget_snapshots", "static_widget_html", "main"]

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
TEMPLATE_DIR = Path(__file__).resolve().parent / "site_template"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
SNAPSHOT_MIME = "application/vnd.llmclock.widget-snapshots+json"


# --------------------------------------------------------------------------- in the kernel


def _plot_html(figure_json: str) -> str:
    """A plotly figure for the static page: its JSON, drawn by the page's local plotly.js."""
    return (
        "<div class='llmclock-plot-box'>"
        "<script type='application/json' class='llmclock-plot-spec'>"
        f"{script_safe(figure_json)}</script>"
        "<div class='llmclock-plot'></div></div>"
    )


def _output_html(bundle: dict) -> str:
    if PLOTLY_MIME in bundle:
        return _plot_html(json.dumps(bundle[PLOTLY_MIME]))
    if "text/html" in bundle:
        return bundle["text/html"]
    if "image/png" in bundle:
        return f"<img alt='output' src='data:image/png;base64,{bundle['image/png']}'>"
    return f"<pre>{html.escape(str(bundle.get('text/plain', '')))}</pre>"


def _control_html(widget) -> str:
    """A control as a disabled copy showing its description and value."""
    import ipywidgets as w

    label = html.escape(getattr(widget, "description", "") or "")
    if isinstance(widget, w.Button):
        return f"<button disabled class='llmclock-static-button'>{label}</button>"
    if isinstance(widget, (w.Textarea, w.Text)):
        text = html.escape(str(widget.value))
        return f"<label>{label} <textarea disabled rows='2'>{text}</textarea></label>"
    if isinstance(widget, (w.Checkbox, w.ToggleButton)):
        checked = " checked" if widget.value else ""
        return f"<label><input type='checkbox' disabled{checked}> {label}</label>"
    if isinstance(
        widget, (w.Dropdown, w.Select, w.RadioButtons, w.ToggleButtons, w.SelectionSlider)
    ):
        chosen = html.escape(str(widget.label)) if widget.label is not None else "–"
        return (
            f"<label>{label} <select disabled><option selected>{chosen}</option></select></label>"
        )
    if isinstance(widget, (w.IntSlider, w.FloatSlider, w.FloatLogSlider)):
        value = widget.value
        return (
            f"<label>{label} <input type='range' disabled min='{widget.min}' max='{widget.max}' "
            f"step='any' value='{value}'> {value:g}</label>"
        )
    if hasattr(widget, "value"):
        return f"<label>{label} <b>{html.escape(str(widget.value))}</b></label>"
    return ""


def static_widget_html(widget) -> str:
    """A widget tree as static HTML: boxes laid out as boxes, HTML as HTML, plotly FigureWidgets as
    figures (their current Python-side state), controls as disabled copies."""
    import ipywidgets as w
    from plotly.basewidget import BaseFigureWidget
    import plotly.io as pio

    if isinstance(widget, BaseFigureWidget):
        return _plot_html(pio.to_json(widget, validate=False))
    if isinstance(widget, (w.Accordion, w.Tab)):
        titles = list(getattr(widget, "titles", ()))
        parts = []
        for i, child in enumerate(widget.children):
            title = (
                html.escape(str(titles[i])) if i < len(titles) and titles[i] else f"part {i + 1}"
            )
            parts.append(
                f"<details open><summary>{title}</summary>{static_widget_html(child)}</details>"
            )
        return "".join(parts)
    if isinstance(widget, w.Box):
        direction = "row" if isinstance(widget, w.HBox) else "column"
        children = "".join(static_widget_html(c) for c in widget.children)
        return (
            f"<div style='display:flex;flex-direction:{direction};flex-wrap:wrap;gap:6px;"
            f"align-items:{'center' if direction == 'row' else 'stretch'}'>{children}</div>"
        )
    if isinstance(widget, (w.HTML, w.HTMLMath)):
        return f"<div>{widget.value}</div>"
    if isinstance(widget, w.Label):
        return f"<span>{html.escape(widget.value)}</span>"
    if isinstance(widget, w.Output):
        return "".join(
            _output_html(o.get("data", {"text/plain": o.get("text", "")})) for o in widget.outputs
        )
    if isinstance(widget, w.Image):
        import base64

        data = base64.b64encode(widget.value).decode()
        return f"<img alt='image' src='data:image/{widget.format};base64,{data}'>"
    if (
        isinstance(widget, w.DOMWidget)
        and not isinstance(widget, w.ValueWidget)
        and not isinstance(widget, w.Button)
    ):
        return ""  # helpers without a look of their own (e.g. the clock's frame acknowledger)
    return _control_html(widget)


_NOTE = "<div class='llmclock-snapshot-note'>{}</div>"


def widget_snapshots(model_ids: list[str]) -> dict[str, str]:
    """model id -> static HTML of each displayed widget, as it is now (run at the end of a
    notebook, in its kernel)."""
    import gc

    from ipywidgets.widgets.widget import _instances

    clocks = {}
    try:
        from ..trace import snapshot_html
        from ..widgets.clock_widget import ClockWidget

        for obj in gc.get_objects():
            if isinstance(obj, ClockWidget):
                clocks[obj.ui.model_id] = obj
    except ImportError:
        pass
    snapshots = {}
    for model_id in model_ids:
        if model_id in clocks:
            note = (
                "Recorded clock: this is a replay of the ticks the clock widget ran when the "
                "notebook was built (Step, Back, Play, the scrubber or the arrow keys). "
                "Open the notebook in JupyterLab "
                "to run the clock yourself."
            )
            snapshots[model_id] = _NOTE.format(note) + snapshot_html(clocks[model_id].clock)
        elif model_id in _instances:
            note = (
                "A snapshot of an interactive widget, as it was after the notebook ran; "
                "open the notebook "
                "in JupyterLab to use it."
            )
            snapshots[model_id] = _NOTE.format(note) + static_widget_html(_instances[model_id])
    return snapshots


# --------------------------------------------------------------------------- building


@contextmanager
def private_kernel_manager():
    """A kernel manager whose kernel talks over Unix sockets in a private temporary folder
    (mode 0700), not over loopback TCP ports that any local user can reach. This also keeps
    ipykernel's "running over TCP without encryption" warning out of the terminal. Without a
    folder of its own, IPC would put its socket files in the current folder."""
    from jupyter_client.manager import KernelManager

    with tempfile.TemporaryDirectory(prefix="llmclock-kernel-") as folder:
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(folder) / "k"))
        try:
            yield km
        finally:  # nbclient leaves a kernel it did not start the manager of running (~1 GB)
            if km.has_kernel:
                km.shutdown_kernel(now=True)


def _execute(nb, timeout: int, folder: Path = NOTEBOOKS):
    """Run every cell in a fresh kernel, then take the widget snapshots in the same kernel."""
    with private_kernel_manager() as km:
        return _execute_with(km, nb, timeout, folder)


def _execute_with(km, nb, timeout: int, folder: Path):
    import nbformat
    from nbclient import NotebookClient

    client = NotebookClient(
        nb, km=km, timeout=timeout, kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            client.execute_cell(cell, index)
        client.set_widgets_metadata()  # the executed copy keeps the widget state, as nbclient would
        ids = sorted(
            {
                o["data"][WIDGET_VIEW]["model_id"]
                for c in nb.cells
                if c.cell_type == "code"
                for o in c.get("outputs", [])
                if WIDGET_VIEW in o.get("data", {})
            }
        )
        probe = nbformat.v4.new_code_cell(
            "from IPython.display import display as _display\n"
            "from helpers.build.site import widget_snapshots as _ws\n"
            f"_display({{{SNAPSHOT_MIME!r}: _ws({ids!r})}}, raw=True)"
        )
        nb.cells.append(probe)
        try:
            client.execute_cell(probe, len(nb.cells) - 1)
        finally:
            nb.cells.pop()
    snapshots = {}
    for out in probe.get("outputs", []):
        if out.get("output_type") == "error":
            raise RuntimeError(
                f"taking the widget snapshots failed: {out['ename']}: {out['evalue']}"
            )
        snapshots.update(out.get("data", {}).get(SNAPSHOT_MIME, {}))
    return nb, snapshots


_MATH = re.compile(r"\$\$(.+?)\$\$|\$([^$\n]+?)\$", re.S)
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)


def _math_to_placeholders(source: str, formulas: list[str]) -> str:
    """$...$ and $$...$$ outside code -> inert placeholders; the MathML goes in after nbconvert
    (so markdown never touches the MathML)."""
    from latex2mathml.converter import convert

    def replace(match):
        block = match.group(1) is not None
        tex = (match.group(1) if block else match.group(2)).strip()
        formulas.append(convert(tex, display="block" if block else "inline"))
        return f"LLMCLOCKMATH{len(formulas) - 1:05d}X"

    parts = _CODE.split(source)
    return "".join(p if i % 2 else _MATH.sub(replace, p) for i, p in enumerate(parts))


def _notebook_title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _prepare(nb, snapshots: dict[str, str], formulas: list[str]) -> dict:
    """Outputs and markdown made static; returns counts for the manifest."""
    counts = {"plotly_outputs": 0, "widgets": 0, "clock_snapshots": 0}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            source = _math_to_placeholders(cell.source, formulas)
            # Links between notebooks point at their pages.
            cell.source = re.sub(r"\]\(([\w.-]+)\.ipynb(#[^)]*)?\)", r"](\1.html\2)", source)
            continue
        if cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data:
                continue
            if WIDGET_VIEW in data:
                model_id = data[WIDGET_VIEW]["model_id"]
                snapshot = snapshots.get(model_id)
                counts["widgets"] += 1
                counts["clock_snapshots"] += "llmclock-trace-data" in (snapshot or "")
                out["data"] = {
                    "text/html": snapshot
                    or _NOTE.format(
                        "(an interactive widget: open the notebook in JupyterLab to use it)"
                    )
                }
            elif PLOTLY_MIME in data:
                counts["plotly_outputs"] += 1
                out["data"] = {"text/html": _plot_html(json.dumps(data[PLOTLY_MIME]))}
    nb.metadata.pop("widgets", None)  # no widget manager on a static page
    return counts


def _nav(pages: list[dict], index: int) -> str:
    links = ["<a href='index.html'>contents</a>"]
    if index > 0:
        links.insert(
            0,
            f"<a class='llmclock-prev' href='{href(pages[index - 1]['file'])}'>← "
            f"{html.escape(pages[index - 1]['title'])}</a>",
        )
    if index < len(pages) - 1:
        links.append(
            f"<a class='llmclock-next' href='{href(pages[index + 1]['file'])}'>"
            f"{html.escape(pages[index + 1]['title'])} →</a>"
        )
    return "<nav class='llmclock-nav'>" + " · ".join(links) + "</nav>"


def _index_page(pages: list[dict]) -> str:
    css = (TEMPLATE_DIR / "site.css").read_text(encoding="utf-8")
    items = "".join(
        f"<li><a href='{href(p['file'])}'>{html.escape(p['title'])}</a> "
        f"<small>({html.escape(p['name'])}.ipynb)</small></li>"
        for p in pages
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<title>LLM Clock: the notebooks</title>"
        f"<style>{css}</style></head><body class='llmclock-index'><main>"
        "<h1>LLM Clock</h1><p>Watch a language model write, one tick at a time. This is the "
        "offline edition: every notebook as it looks after running top to bottom, with its "
        "figures; the widgets are snapshots (the clock widget is a recorded replay). "
        "To change and run the code, open the "
        "notebooks in JupyterLab (<code>./lab.sh</code>).</p>"
        f"<ol>{items}</ol></main></body></html>\n"
    )


def _notebook_path(name: str) -> Path:
    """A name in notebooks/ ('00_the_clock'), or the path of any .ipynb file."""
    path = Path(name)
    if path.suffix == ".ipynb" and path.exists():
        return path.resolve()
    return NOTEBOOKS / f"{name.removesuffix('.ipynb')}.ipynb"


def build_site(
    names: list[str] | None = None,
    out: Path = REPO / "build" / "site",
    timeout: int = 900,
    log=print,
) -> list[dict]:
    """Execute the notebooks (all of notebooks/ by default, or the given names) and write the site.
    Returns the manifest: one dict per page (also written to out/site.json)."""
    import nbformat
    from nbconvert import HTMLExporter

    paths = sorted(NOTEBOOKS.glob("*.ipynb")) if not names else [_notebook_path(n) for n in names]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"No such notebook(s) in {NOTEBOOKS}: {', '.join(missing)}")
    out = Path(out)
    (out / "assets").mkdir(parents=True, exist_ok=True)
    (out / "executed").mkdir(exist_ok=True)
    import plotly

    shutil.copy(
        Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
        out / "assets" / "plotly.min.js",
    )
    exporter = HTMLExporter(
        template_name="lab",
        extra_template_basedirs=[str(TEMPLATE_DIR.parent)],
        extra_template_paths=[str(TEMPLATE_DIR)],
        template_file="llmclock_site.html.j2",
    )
    pages, prepared = [], []
    for path in paths:
        log(f"==> running {path.name}")
        try:
            nb, snapshots = _execute(nbformat.read(path, as_version=4), timeout, path.parent)
        except Exception as err:
            lines = [line for line in str(err).strip().splitlines() if line.strip()]
            raise RuntimeError(
                f"{path.name} failed: {lines[-1] if lines else type(err).__name__}"
            ) from err
        nbformat.write(nb, out / "executed" / path.name)  # kept: what the pages were made from
        formulas: list[str] = []
        counts = _prepare(nb, snapshots, formulas)
        pages.append(
            {
                "name": path.stem,
                "file": f"{path.stem}.html",
                "title": _notebook_title(nb, path.stem),
                **counts,
            }
        )
        prepared.append((nb, formulas))
    css = (TEMPLATE_DIR / "site.css").read_text(encoding="utf-8")
    for index, (page, (nb, formulas)) in enumerate(zip(pages, prepared)):
        body, _ = exporter.from_notebook_node(
            nb, resources={"llmclock": {"nav": _nav(pages, index), "css": css}}
        )
        body = re.sub(r"LLMCLOCKMATH(\d{5})X", lambda m: formulas[int(m.group(1))], body)
        (out / page["file"]).write_text(body, encoding="utf-8")
    (out / "index.html").write_text(_index_page(pages), encoding="utf-8")
    (out / "site.json").write_text(json.dumps(pages, indent=1), encoding="utf-8")
    log(
        f"Wrote {len(pages)} pages to {out}; open {out / 'index.html'} in a browser "
        "(no network needed)."
    )
    return pages


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers site",
        description="Build the offline HTML edition of the notebooks.",
    )
    parser.add_argument("notebooks", nargs="*", help="notebook names (default: all of notebooks/)")
    parser.add_argument(
        "--out", default=str(REPO / "build" / "site"), help="output folder (default build/site)"
    )
    parser.add_argument(
        "--timeout", type=int, default=900, help="seconds one cell may run (default 900)"
    )
    args = parser.parse_args(argv)
    try:
        build_site(args.notebooks or None, Path(args.out), args.timeout)
    except FileNotFoundError as err:
        print(f"python -m helpers site: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # a cell failed: name it, without nbclient's long traceback
        print(f"python -m helpers site: {err}", file=sys.stderr)
        return 1
    return 0
