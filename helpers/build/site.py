"""The offline HTML edition: every notebook, executed, as a static site that opens from disk.

    python -m helpers site --out build/site                  # notebooks/ and notebooks/zh/
    python -m helpers site --out build/site --lang zh        # only the Chinese edition
    python -m helpers site --out build/site 00_the_clock zh/00_the_clock   # some of them

Each language's notebooks make one edition of the site: notebooks/*.ipynb the English pages at
the top (index.html), notebooks/zh/*.ipynb the Chinese pages in zh/ (zh/index.html, each page
<html lang="zh-CN">). The two indexes link to each other, and every page to the same notebook in
the other edition (to that edition's index when it has no such notebook). Every word the site
itself puts on a page (navigation, index, titles, notes on widget snapshots, the recorded clock)
comes from the catalogue of the page's language (helpers.i18n.messages), never from this file.

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
import posixpath
import re
import shutil
import sys
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

from ..escaping import href, script_json, script_safe
from ..i18n import LANGUAGES, check_lang, messages

__all__ = ["build_site", "widget_snapshots", "static_widget_html", "edition_of", "main"]

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
TEMPLATE_DIR = Path(__file__).resolve().parent / "site_template"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"
SNAPSHOT_MIME = "application/vnd.llmclock.widget-snapshots+json"
# The <html lang> of each edition's pages (the catalogue's language, as a page names it).
HTML_LANG = {"en": "en", "zh": "zh-CN"}


def edition_of(path: Path) -> str:
    """The language of a notebook: the name of its folder when that is a language of the
    interface (notebooks/zh/01_tokenization.ipynb -> "zh"), else English."""
    folder = Path(path).parent.name
    return folder if folder in LANGUAGES else "en"


def _edition_folder(lang: str) -> Path:
    return NOTEBOOKS if lang == "en" else NOTEBOOKS / lang


# --------------------------------------------------------------------------- in the kernel


def _plot_html(figure_json: str) -> str:
    """A plotly figure for the static page: its JSON, drawn by the page's local plotly.js."""
    return (
        "<div class='llmclock-plot-box'>"
        "<script type='application/json' class='llmclock-plot-spec'>"
        f"{script_safe(figure_json)}</script>"
        "<div class='llmclock-plot'></div></div>"
    )


def _output_html(bundle: dict, lang: str = "en") -> str:
    if PLOTLY_MIME in bundle:
        return _plot_html(json.dumps(bundle[PLOTLY_MIME]))
    if "text/html" in bundle:
        return bundle["text/html"]
    if "image/png" in bundle:
        alt = html.escape(messages(lang)("site.output_alt"), quote=True)
        return f"<img alt='{alt}' src='data:image/png;base64,{bundle['image/png']}'>"
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


def static_widget_html(widget, lang: str = "en") -> str:
    """A widget tree as static HTML: boxes laid out as boxes, HTML as HTML, plotly FigureWidgets as
    figures (their current Python-side state), controls as disabled copies. lang: the language
    of the few words the copy adds itself (an untitled part, an image's description)."""
    import ipywidgets as w
    from plotly.basewidget import BaseFigureWidget
    import plotly.io as pio

    t = messages(lang)
    if isinstance(widget, BaseFigureWidget):
        return _plot_html(pio.to_json(widget, validate=False))
    if isinstance(widget, (w.Accordion, w.Tab)):
        titles = list(getattr(widget, "titles", ()))
        parts = []
        for i, child in enumerate(widget.children):
            title = titles[i] if i < len(titles) and titles[i] else t("site.part", n=i + 1)
            parts.append(
                f"<details open><summary>{html.escape(str(title))}</summary>"
                f"{static_widget_html(child, lang)}</details>"
            )
        return "".join(parts)
    if isinstance(widget, w.Box):
        direction = "row" if isinstance(widget, w.HBox) else "column"
        children = "".join(static_widget_html(c, lang) for c in widget.children)
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
            _output_html(o.get("data", {"text/plain": o.get("text", "")}), lang)
            for o in widget.outputs
        )
    if isinstance(widget, w.Image):
        import base64

        data = base64.b64encode(widget.value).decode()
        alt = html.escape(t("site.image_alt"), quote=True)
        return f"<img alt='{alt}' src='data:image/{widget.format};base64,{data}'>"
    if (
        isinstance(widget, w.DOMWidget)
        and not isinstance(widget, w.ValueWidget)
        and not isinstance(widget, w.Button)
    ):
        return ""  # helpers without a look of their own (e.g. the clock's frame acknowledger)
    return _control_html(widget)


def _note(text: str) -> str:
    """A note the site puts above a widget's snapshot (plain text from the catalogue)."""
    return f"<div class='llmclock-snapshot-note'>{html.escape(text)}</div>"


def widget_snapshots(model_ids: list[str], lang: str = "en") -> dict[str, str]:
    """model id -> static HTML of each displayed widget, as it is now (run at the end of a
    notebook, in its kernel); its notes and the recorded clock's words in `lang`."""
    import gc

    from ipywidgets.widgets.widget import _instances

    t = messages(lang)
    clocks = {}
    # A kernel that never imported the clock widget has none to look for: the module is only
    # read from sys.modules, so a notebook without a clock does not load it (and its plots) here.
    clock_widget = sys.modules.get("helpers.widgets.clock_widget")
    if clock_widget is not None:
        with warnings.catch_warnings():  # isinstance() on every object wakes deprecation shims
            warnings.simplefilter("ignore")  # (torch.distributed.reduce_op): none is ours
            for obj in gc.get_objects():
                # a closed widget (cw.close()) has no comm, so no model id, and is not shown
                if isinstance(obj, clock_widget.ClockWidget) and obj.ui.comm is not None:
                    clocks[obj.ui.model_id] = obj
    snapshots = {}
    for model_id in model_ids:
        if model_id in clocks and not clocks[model_id].clock.history:
            snapshots[model_id] = _note(t("site.clock_not_run"))  # nothing to replay
        elif model_id in clocks:
            from ..trace import snapshot_html

            snapshots[model_id] = _note(t("site.clock_note")) + snapshot_html(
                clocks[model_id].clock, lang=lang
            )
        elif model_id in _instances:
            snapshots[model_id] = _note(t("site.widget_note")) + static_widget_html(
                _instances[model_id], lang
            )
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


def _execute(nb, timeout: int, folder: Path = NOTEBOOKS, lang: str = "en"):
    """Run every cell in a fresh kernel, then take the widget snapshots (their notes in `lang`)
    in the same kernel."""
    with private_kernel_manager() as km:
        return _execute_with(km, nb, timeout, folder, lang)


def _execute_with(km, nb, timeout: int, folder: Path, lang: str = "en"):
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
        if not ids:  # nothing to snapshot: the kernel need not import the helpers for it
            return nb, {}
        probe = nbformat.v4.new_code_cell(
            "from IPython.display import display as _display\n"
            "from helpers.build.site import widget_snapshots as _ws\n"
            f"_display({{{SNAPSHOT_MIME!r}: _ws({ids!r}, {lang!r})}}, raw=True)"
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


# A link to another notebook, in the same folder or a relative one ("../01_x.ipynb#sec").
_NOTEBOOK_LINK = re.compile(r"\]\(((?:[\w.-]+/)*[\w.-]+)\.ipynb(#[^)]*)?\)")


def _prepare(nb, snapshots: dict[str, str], formulas: list[str], lang: str = "en") -> dict:
    """Outputs and markdown made static (the site's own words in `lang`); returns counts for the
    manifest."""
    counts = {"plotly_outputs": 0, "widgets": 0, "clock_snapshots": 0}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            source = _math_to_placeholders(cell.source, formulas)
            # Links between notebooks point at their pages (the site keeps the folders' layout).
            cell.source = _NOTEBOOK_LINK.sub(r"](\1.html\2)", source)
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
                out["data"] = {"text/html": snapshot or _note(messages(lang)("site.no_snapshot"))}
            elif PLOTLY_MIME in data:
                counts["plotly_outputs"] += 1
                out["data"] = {"text/html": _plot_html(json.dumps(data[PLOTLY_MIME]))}
    nb.metadata.pop("widgets", None)  # no widget manager on a static page
    return counts


def _relative(target: str, page: str) -> str:
    """The address of site file `target` from site file `page` (both relative to the site)."""
    return href(posixpath.relpath(target, posixpath.dirname(page) or "."))


def _nav(pages: list[dict], index: int, editions: list[tuple[str, str]] = ()) -> str:
    """Previous · contents · next, in the page's language; pages: the page's edition, in order;
    editions: (language, site file) of this notebook in the other editions (or their index)."""
    page = pages[index]
    t = messages(page.get("lang", "en"))
    links = [f"<a href='index.html'>{html.escape(t('site.contents'))}</a>"]
    if index > 0:
        before = pages[index - 1]
        links.insert(
            0,
            f"<a class='llmclock-prev' href='{_relative(before['file'], page['file'])}'>← "
            f"{html.escape(before['title'])}</a>",
        )
    if index < len(pages) - 1:
        after = pages[index + 1]
        links.append(
            f"<a class='llmclock-next' href='{_relative(after['file'], page['file'])}'>"
            f"{html.escape(after['title'])} →</a>"
        )
    for lang, target in editions:
        links.append(
            f"<a class='llmclock-edition' hreflang='{HTML_LANG[lang]}' "
            f"href='{_relative(target, page['file'])}'>{html.escape(t(f'site.edition.{lang}'))}</a>"
        )
    return "<nav class='llmclock-nav'>" + " · ".join(links) + "</nav>"


def _index_file(lang: str) -> str:
    return "index.html" if lang == "en" else f"{lang}/index.html"


def _index_page(pages: list[dict], lang: str = "en", editions: tuple[str, ...] = ()) -> str:
    """One edition's contents page, in its language; editions: the other editions' languages
    (their indexes are linked)."""
    t = messages(lang)
    css = (TEMPLATE_DIR / "site.css").read_text(encoding="utf-8")
    here = _index_file(lang)
    items = "".join(
        f"<li><a href='{_relative(p['file'], here)}'>{html.escape(p['title'])}</a> "
        f"<small>({html.escape(p['name'])}.ipynb)</small></li>"
        for p in pages
    )
    others = "".join(
        f"<p class='llmclock-edition'><a hreflang='{HTML_LANG[other]}' "
        f"href='{_relative(_index_file(other), here)}'>"
        f"{html.escape(t(f'site.edition.{other}'))}</a></p>"
        for other in editions
    )
    return (
        f"<!DOCTYPE html>\n<html lang='{HTML_LANG[lang]}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(t('site.index_title'))}</title>"
        f"<style>{css}</style></head><body class='llmclock-index'><main>"
        f"<h1>{html.escape(t('site.name'))}</h1><p>{t('site.index_intro_html')}</p>"
        f"{others}<ol>{items}</ol></main></body></html>\n"
    )


def _notebook_path(name: str) -> Path:
    """A name in notebooks/ ('00_the_clock', 'zh/00_the_clock'), or the path of any .ipynb file."""
    path = Path(name)
    if path.suffix == ".ipynb" and path.exists():
        return path.resolve()
    return NOTEBOOKS / f"{name.removesuffix('.ipynb')}.ipynb"


def _page_file(path: Path) -> str:
    """Where a notebook's page goes in the site: English at the top, another language's in a
    folder named for it (notebooks/zh/00_the_clock.ipynb -> zh/00_the_clock.html)."""
    lang = edition_of(path)
    return f"{path.stem}.html" if lang == "en" else f"{lang}/{path.stem}.html"


def build_site(
    names: list[str] | None = None,
    out: Path = REPO / "build" / "site",
    timeout: int = 900,
    log=print,
    langs: list[str] | None = None,
) -> list[dict]:
    """Execute the notebooks and write the site: the given names, or every notebook of
    notebooks/ (English) and notebooks/zh/ (Chinese); langs keeps only those editions.
    Returns the manifest: one dict per page (also written to out/site.json)."""
    import nbformat
    from nbconvert import HTMLExporter

    langs = [check_lang(lang) for lang in (langs or LANGUAGES)]
    if names:
        paths = [_notebook_path(n) for n in names]
    else:
        paths = [p for lang in LANGUAGES for p in sorted(_edition_folder(lang).glob("*.ipynb"))]
    paths = [p for p in paths if edition_of(p) in langs]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"No such notebook(s) in {NOTEBOOKS}: {', '.join(missing)}")
    if not paths:
        raise FileNotFoundError(f"No notebook to build (languages: {', '.join(langs)}).")
    files = [_page_file(p) for p in paths]
    twice = sorted({f for f in files if files.count(f) > 1})
    if twice:
        raise ValueError(f"Two notebooks would make the same page: {', '.join(twice)}; "
                         "build them into different --out folders.")
    out = Path(out)
    (out / "assets").mkdir(parents=True, exist_ok=True)
    import plotly

    shutil.copy(
        Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
        out / "assets" / "plotly.min.js",
    )
    pages, prepared = [], []
    for path, file in zip(paths, files):
        lang = edition_of(path)
        log(f"==> running {posixpath.join(posixpath.dirname(file), path.name)}")
        try:
            nb, snapshots = _execute(
                nbformat.read(path, as_version=4), timeout, path.parent, lang
            )
        except Exception as err:
            lines = [line for line in str(err).strip().splitlines() if line.strip()]
            raise RuntimeError(
                f"{path.name} failed: {lines[-1] if lines else type(err).__name__}"
            ) from err
        executed = out / "executed" / Path(file).with_suffix(".ipynb")
        executed.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, executed)  # kept: what the pages were made from
        formulas: list[str] = []
        counts = _prepare(nb, snapshots, formulas, lang)
        page = {"name": path.stem, "lang": lang, "file": file,
                "title": _notebook_title(nb, path.stem), **counts}
        pages.append(page)
        prepared.append((nb, formulas))
    exporter = HTMLExporter(
        template_name="lab",
        extra_template_basedirs=[str(TEMPLATE_DIR.parent)],
        extra_template_paths=[str(TEMPLATE_DIR)],
        template_file="llmclock_site.html.j2",
    )
    css = (TEMPLATE_DIR / "site.css").read_text(encoding="utf-8")
    editions = {lang: [p for p in pages if p["lang"] == lang] for lang in LANGUAGES}
    built = [lang for lang in LANGUAGES if editions[lang]]
    for page, (nb, formulas) in zip(pages, prepared):
        lang, same = page["lang"], editions[page["lang"]]
        t = messages(lang)
        others = [
            (other, next((p["file"] for p in editions[other] if p["name"] == page["name"]),
                         _index_file(other)))
            for other in built if other != lang
        ]
        nb.metadata["title"] = t("site.page_title", title=page["title"])
        site = {
            "nav": _nav(same, same.index(page), others),
            "css": css,
            "assets": _relative("assets/", page["file"]) + "/",
            "no_plotly": script_json(t("site.no_plotly")),
        }
        body, _ = exporter.from_notebook_node(nb, resources={"llmclock": site})
        body = re.sub(r"LLMCLOCKMATH(\d{5})X", lambda m: formulas[int(m.group(1))], body)
        # nbconvert's language_code takes ISO 639-1 codes only ("zh", not "zh-CN"): set it here.
        body = body.replace('<html lang="en">', f'<html lang="{HTML_LANG[lang]}">', 1)
        (out / page["file"]).parent.mkdir(parents=True, exist_ok=True)
        (out / page["file"]).write_text(body, encoding="utf-8")
    for lang in set(built) | {"en"}:  # index.html always: it is where the site opens
        others = tuple(other for other in built if other != lang)
        (out / _index_file(lang)).parent.mkdir(parents=True, exist_ok=True)
        (out / _index_file(lang)).write_text(_index_page(editions[lang], lang, others),
                                             encoding="utf-8")
    (out / "site.json").write_text(json.dumps(pages, indent=1, ensure_ascii=False),
                                   encoding="utf-8")
    log(
        f"Wrote {len(pages)} pages to {out}; open {out / 'index.html'} in a browser "
        "(no network needed)."
    )
    return pages


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers site",
        description="Build the offline HTML edition of the notebooks (English and Chinese).",
    )
    parser.add_argument(
        "notebooks", nargs="*",
        help="notebook names, e.g. 00_the_clock zh/00_the_clock (default: all of notebooks/ and "
        "notebooks/zh/)",
    )
    parser.add_argument(
        "--lang", action="append", choices=LANGUAGES,
        help="build only this edition (repeatable; default: every edition)",
    )
    parser.add_argument(
        "--out", default=str(REPO / "build" / "site"), help="output folder (default build/site)"
    )
    parser.add_argument(
        "--timeout", type=int, default=900, help="seconds one cell may run (default 900)"
    )
    args = parser.parse_args(argv)
    try:
        build_site(args.notebooks or None, Path(args.out), args.timeout, langs=args.lang)
    except (FileNotFoundError, ValueError) as err:
        print(f"python -m helpers site: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:  # a cell failed: name it, without nbclient's long traceback
        print(f"python -m helpers site: {err}", file=sys.stderr)
        return 1
    return 0
