"""The offline HTML edition's pieces that need no kernel and no browser (helpers.build.site):
math to MathML, widgets to static HTML, notebook outputs made static, the pages' own words in the
page's language (English, Chinese), hostile names escaped. The whole build is tested in
tests/browser/test_site_in_browser.py."""

from __future__ import annotations

import json

import ipywidgets as w
import nbformat
import pytest
import plotly.graph_objects as go

import re
from pathlib import Path

from helpers.build.site import (
    NOTEBOOKS, _index_page, _math_to_placeholders, _nav, _page_file, _prepare, edition_of,
    static_widget_html,
)
from helpers.i18n import messages

SITE_KEYS = [k for k in messages("en").texts if k.startswith("site.")]


def test_math_becomes_placeholders_outside_code():
    formulas: list[str] = []
    source = ("Inline $p_i \\propto e^{z_i}$, block $$\\sum_j p_j = 1$$, "
              "code `$HOME` and\n```\n$x$\n```")
    out = _math_to_placeholders(source, formulas)
    assert len(formulas) == 2 and "$" not in out.split("`")[0]
    assert "`$HOME`" in out and "```\n$x$\n```" in out
    assert formulas[0].startswith("<math") and 'display="inline"' in formulas[0]
    assert 'display="block"' in formulas[1]


def test_a_widget_tree_as_static_html():
    fig = go.FigureWidget(go.Scatter(y=[1, 2, 3]))
    fig.data[0].y = [7, 8, 9]  # the Python side is the truth: the snapshot shows this
    box = w.VBox([
        w.HTML("<b>bold</b>"),
        w.HBox([w.Button(description="Step"), w.IntSlider(4, min=0, max=9, description="layer")]),
        w.Dropdown(options=[("mean over heads", -1), ("head 0", 0)], value=0, description="head"),
        fig,
    ])
    page = static_widget_html(box)
    assert "<b>bold</b>" in page and "<button disabled" in page and ">Step<" in page
    assert "type='range' disabled" in page and "value='4'" in page
    assert "<option selected>head 0</option>" in page
    spec = page.split("class='llmclock-plot-spec'>")[1].split("</script>")[0]
    assert json.loads(spec)["data"][0]["y"] == [7, 8, 9]


def test_outputs_become_static_html():
    plot = {"output_type": "display_data", "metadata": {},
            "data": {"application/vnd.plotly.v1+json": {"data": [{"type": "bar", "y": [1]}]},
                     "text/html": "<script src='https://cdn.plot.ly/x.js'></script>"}}
    view = {"output_type": "display_data", "metadata": {},
            "data": {"application/vnd.jupyter.widget-view+json": {
                "model_id": "abc", "version_major": 2, "version_minor": 0},
                     "text/plain": "VBox()"}}
    missing = json.loads(json.dumps(view))
    missing["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] = "gone"
    outputs = [nbformat.from_dict(o) for o in (plot, view, missing)]
    cell = nbformat.v4.new_code_cell("x", outputs=outputs)
    md = nbformat.v4.new_markdown_cell("See [next](01_tokenization.ipynb) and $x^2$.")
    nb = nbformat.v4.new_notebook(cells=[md, cell])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {}}
    formulas: list[str] = []
    counts = _prepare(nb, {"abc": "<div>snapshot of abc</div>"}, formulas)
    assert counts == {"plotly_outputs": 1, "widgets": 2, "clock_snapshots": 0}
    outs = nb.cells[1].outputs
    assert list(outs[0].data) == ["text/html"] and "cdn.plot.ly" not in outs[0].data["text/html"]
    assert outs[1].data == {"text/html": "<div>snapshot of abc</div>"}
    assert "open the notebook in JupyterLab" in outs[2].data["text/html"]  # never "Loading widget"
    assert "(01_tokenization.html)" in nb.cells[0].source and len(formulas) == 1
    assert "widgets" not in nb.metadata


def test_notebook_names_and_titles_are_escaped_in_the_index_and_nav():
    name = "x'><img src=x onerror=alert(1)>"
    for lang, folder in (("en", ""), ("zh", "zh/")):
        pages = [
            {"name": "a", "lang": lang, "file": f"{folder}a.html", "title": "First"},
            {"name": name, "lang": lang, "file": f"{folder}{name}.html",
             "title": "<script>alert(2)</script>"},
            {"name": "c", "lang": lang, "file": f"{folder}c.html", "title": "Last"},
        ]
        other = "zh" if lang == "en" else "en"
        index = _index_page(pages, lang, (other,))
        for page in (index, _nav(pages, 0, [(other, f"{name}.html")]), _nav(pages, 2)):
            assert "<img" not in page and "<script" not in page, lang
        assert "x&#x27;&gt;&lt;img" in index  # the name shown as text
        assert "href='x%27%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.html'" in index


def _text(page: str) -> str:
    """What a reader sees of a page the site writes: no tags, no CSS."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_a_chinese_page_says_nothing_in_english():
    """The index, the navigation and a missing widget's note of the Chinese edition: html
    lang zh-CN, every word from the Chinese catalogue, none of the English one, links to the
    English edition and back; the English edition's in English."""
    zh = [{"name": "00_the_clock", "lang": "zh", "file": "zh/00_the_clock.html", "title": "时钟"},
          {"name": "01_tokenization", "lang": "zh", "file": "zh/01_tokenization.html",
           "title": "分词"}]
    index = _index_page(zh, "zh", ("en",))
    nav = _nav(zh, 1, [("en", "01_tokenization.html")])
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.from_dict({"output_type": "display_data", "metadata": {}, "data": {
            "application/vnd.jupyter.widget-view+json": {"model_id": "gone"}}})])])
    _prepare(nb, {}, [], "zh")
    note = nb.cells[0].outputs[0].data["text/html"]
    parts = static_widget_html(w.Accordion([w.HTML("一")]), "zh")
    assert index.startswith("<!DOCTYPE html>\n<html lang='zh-CN'>")
    assert "href='../index.html'" in index and "href='00_the_clock.html'" in index
    assert "href='index.html'" in nav and "href='00_the_clock.html'" in nav
    assert "href='../01_tokenization.html'" in nav and "hreflang='en'" in nav
    t = messages("zh")
    assert t("site.contents") in nav and t("site.edition.en") in nav
    assert t("site.no_snapshot") in note and t("site.part", n=1) in parts
    english = [messages("en")(k, title="", n=1) for k in SITE_KEYS]
    for shown in (_text(index), _text(nav), _text(note), _text(parts)):
        shown = re.sub(r"\([\w.-]+\.ipynb\)", "", shown)  # the notebooks' file names
        assert not [e for e in english if e in shown], shown
        # Latin letters only in names: the site's, JupyterLab, ./lab.sh zh
        assert set(re.findall(r"[A-Za-z]+", shown)) <= {"LLM", "JupyterLab", "lab", "sh", "zh"}
    en_index = _index_page([{**p, "lang": "en", "file": p["file"][3:]} for p in zh], "en",
                           ("zh",))
    assert "<html lang='en'>" in en_index and "href='zh/index.html'" in en_index
    assert messages("en")("site.contents") in _nav(
        [{**p, "lang": "en"} for p in zh], 0)


def test_pages_go_in_their_language_folder():
    assert edition_of(NOTEBOOKS / "zh" / "00_the_clock.ipynb") == "zh"
    assert edition_of(NOTEBOOKS / "00_the_clock.ipynb") == "en"
    assert edition_of(Path("/tmp/x/test.ipynb")) == "en"
    assert _page_file(NOTEBOOKS / "zh" / "00_the_clock.ipynb") == "zh/00_the_clock.html"
    assert _page_file(NOTEBOOKS / "06_tick_by_tick.ipynb") == "06_tick_by_tick.html"


def test_links_between_notebooks_follow_the_folders():
    md = nbformat.v4.new_markdown_cell(
        "[下一本](01_tokenization.ipynb)、[英文版](../08_chat_and_stopping.ipynb#sec-x)、"
        "[中文](zh/00_the_clock.ipynb)、[外部](https://example.org/a.ipynb)")
    nb = nbformat.v4.new_notebook(cells=[md])
    _prepare(nb, {}, [], "zh")
    source = nb.cells[0].source
    assert "(01_tokenization.html)" in source and "(../08_chat_and_stopping.html#sec-x)" in source
    assert "(zh/00_the_clock.html)" in source
    assert "(https://example.org/a.ipynb)" in source  # not a notebook of the site


def test_the_notebooks_markdown_loads_nothing_remote_and_runs_no_script():
    """What the README's "no network" promise for the offline edition rests on."""
    paths = sorted(NOTEBOOKS.glob("**/*.ipynb"))
    assert paths
    for path in paths:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            source = cell.source
            assert not re.search(r"<\s*(script|iframe|object|embed|link|style)\b", source, re.I), (
                path.name, source[:80])
            assert not re.search(r"\bon\w+\s*=", source, re.I), (path.name, source[:80])
            # Images and sources only from the notebook's own folder (links to read are fine).
            assert not re.search(r"!\[[^\]]*\]\(\s*(https?:)?//", source), (path.name, source[:80])
            assert not re.search(r"\bsrc\s*=\s*['\"]?\s*(https?:)?//", source, re.I), (
                path.name, source[:80])


def test_the_recorded_clock_speaks_the_page_language(tiny_lm):
    """A clock widget on a page: the trace player's fragment in the page's language under the
    catalogue's note; a clock that ran no tick gets a note saying so, not an empty player."""
    from helpers.build.site import widget_snapshots
    from helpers.clock import Clock
    from helpers.trace import snapshot_html
    from helpers.widgets import ClockWidget

    clock = Clock(tiny_lm, "我喜欢")
    assert messages("zh")("trace.nothing_recorded") in snapshot_html(clock, lang="zh")
    assert "no tick has run yet" in snapshot_html(clock)
    closed = ClockWidget(tiny_lm, "我喜欢")   # a closed clock, still alive, has no comm and
    closed.close()                             # no model id: the scan skips it
    cw = ClockWidget(tiny_lm, "我喜欢", temperature=0, lang="zh")
    zh = messages("zh")
    model_id = cw.ui.model_id
    assert widget_snapshots([model_id], "zh") == {
        model_id: f"<div class='llmclock-snapshot-note'>{zh('site.clock_not_run')}</div>"}
    cw.step()
    page = widget_snapshots([model_id], "zh")[model_id]
    assert page.startswith(f"<div class='llmclock-snapshot-note'>{zh('site.clock_note')}</div>")
    assert '"lang":"zh"' in page and "LLM 时钟录像" in page and "LLM Clock" not in page
    assert "llmclock-trace-data" in page


def test_the_command_names_a_missing_notebook_and_a_bad_language(capsys, tmp_path):
    from helpers.build.site import main

    assert main(["zh/99_nothing", "--out", str(tmp_path)]) == 2
    assert "99_nothing.ipynb" in capsys.readouterr().err
    assert main(["00_the_clock", "--lang", "zh", "--out", str(tmp_path)]) == 2
    assert "No notebook to build (languages: zh)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--lang", "fr"])
    assert "invalid choice: 'fr'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written
