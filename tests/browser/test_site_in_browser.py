"""The offline HTML edition (python -m helpers site), opened from disk in headless Chromium at
1280x720 with every request off the machine refused: each page draws as many plots as its notebook
has figures (plotly outputs and FigureWidgets inside widgets, counted from the executed notebook),
each clock widget is a playable recording, math is MathML, and no page shows error text or
"Loading widget". The Chinese edition (zh/) has <html lang="zh-CN">, no English word of the
interface, Chinese drawn with a CJK font, and links to the English edition and back.

Building a real notebook runs it, and the test suite runs each notebook once (in
test_notebooks_run_clean.py), so the test builds two small notebooks written here instead, one
per edition: an English page without a model (a plotly figure, a FigureWidget in a box changed
after display, math) and a Chinese one (a tiny random model's clock widget with lang="zh", an
untitled accordion, math). LLMCLOCK_SITE_NOTEBOOKS="00_the_clock zh/06_tick_by_tick" adds real
notebooks.
"""

from __future__ import annotations

import json
import os
import re

import nbformat
import pytest

from cjk import cjk_drawn
from disk_pages import open_file
from lab_driver import ARTIFACTS, BROKEN_RENDER, assert_plotly_drawn, plotly_figures

from helpers.build.site import build_site
from helpers.i18n import messages

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REAL = os.environ.get("LLMCLOCK_SITE_NOTEBOOKS", "").split()
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
BAD_TEXT = re.compile(
    r"Loading widget|could not be shown|needs assets/plotly|Error displaying|Traceback", re.I
)


def _write(path, cells) -> None:
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def _english_notebook(path) -> None:
    """No model and no widget: its kernel stays light (the Chinese page has the widgets)."""
    _write(path, [
        nbformat.v4.new_markdown_cell(
            "# A page built for the test\n\n"
            "Softmax: $p_i = \\frac{e^{z_i}}{\\sum_j e^{z_j}}$, and as a block\n"
            "$$\\sum_j p_j = 1$$\nA dollar in code stays: `echo $HOME`. "
            "Next: [the clock](00_the_clock.ipynb)."
        ),
        nbformat.v4.new_code_cell("import plotly.graph_objects as go"),
        nbformat.v4.new_code_cell("go.Figure(go.Bar(x=[1, 2, 3], y=[3, 1, 2]))"),
    ])


def _chinese_notebook(path, model_dir) -> None:
    """A plotly figure, a FigureWidget in a box changed after display, an untitled accordion,
    a clock widget with lang="zh" on a tiny random model, math."""
    _write(path, [
        nbformat.v4.new_markdown_cell(
            "# 测试用的一页\n\n"
            "软最大：$p_i = \\frac{e^{z_i}}{\\sum_j e^{z_j}}$。"
            "下一本：[时钟](00_the_clock.ipynb)。"
        ),
        nbformat.v4.new_code_cell(
            "import ipywidgets as w\nimport plotly.graph_objects as go\n"
            "from helpers import load_model\n"
            f"from helpers.widgets import ClockWidget\nlm = load_model({str(model_dir)!r})"
        ),
        nbformat.v4.new_code_cell("go.Figure(go.Bar(x=['我', '喜欢', '吃'], y=[3, 1, 2]))"),
        nbformat.v4.new_code_cell(
            "fig = go.FigureWidget(go.Scatter(y=[1, 3, 2]))\n"
            "box = w.VBox([w.HTML('<b>一个盒子</b>'), w.IntSlider(3, description='n'), fig])\nbox"
        ),
        nbformat.v4.new_code_cell(
            "fig.data[0].y = [5, 6, 7]  # changed after display: the snapshot shows this"
        ),
        nbformat.v4.new_code_cell(
            "w.Accordion([w.HTML('<b>第一部分的内容</b>'), w.HTML('第二部分')])"
        ),
        nbformat.v4.new_code_cell(
            "clock_widget = ClockWidget(lm, '我喜欢吃', temperature=0, lang='zh')\n"
            "clock_widget"
        ),
        nbformat.v4.new_code_cell("clock_widget.clock.run(4);"),
    ])


def _expected(executed: nbformat.NotebookNode) -> tuple[int, int]:
    """(plotly figures, clock recordings) the page must show, counted from the executed notebook."""
    state = executed.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})

    def subtree(model_id: str):
        model = state[model_id]["state"]
        yield model
        for child in model.get("children", []):
            yield from subtree(child.removeprefix("IPY_MODEL_"))

    plots = clocks = 0
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            plots += "application/vnd.plotly.v1+json" in data
            view = data.get("application/vnd.jupyter.widget-view+json")
            if view:
                models = list(subtree(view["model_id"]))
                if any("llmclock-step" in m.get("_dom_classes", ()) for m in models):
                    clocks += 1  # a clock widget: its panels are the recording's, not plotly
                else:
                    plots += sum("_widget_data" in m for m in models)  # FigureWidgets
    return plots, clocks


@pytest.fixture(scope="module")
def site(tmp_path_factory, tiny_llama_dir):
    folder = tmp_path_factory.mktemp("site-src")
    _english_notebook(folder / "test_page.ipynb")
    _chinese_notebook(folder / "zh" / "test_page.ipynb", tiny_llama_dir)
    out = tmp_path_factory.mktemp("site")
    sources = [str(folder / "test_page.ipynb"), str(folder / "zh" / "test_page.ipynb"), *REAL]
    pages = build_site(sources, out, timeout=600)
    return out, pages


@pytest.fixture(scope="module")
def opened(browser, site):
    """open(site file) -> (page, guard), each page opened once for the module: a page with its
    plots and player takes seconds to open on a busy machine, and the tests only read the pages
    (the one test that steps a player back checks the player last)."""
    out, _ = site
    contexts, cache = [], {}

    def open_page(file: str):
        if file not in cache:
            context, page, guard = open_file(browser, out / file)
            contexts.append(context)
            page.wait_for_load_state("load")
            cache[file] = (page, guard)
        return cache[file]

    yield open_page
    for context in contexts:
        context.close()


def test_every_page_draws_its_figures_offline(opened, site):
    out, pages = site
    assert [p["file"] for p in pages[:2]] == ["test_page.html", "zh/test_page.html"]
    for page_info in pages:
        edition = [p for p in pages if p["lang"] == page_info["lang"]]
        index = edition.index(page_info)
        executed = nbformat.read(
            out / "executed" / page_info["file"].replace(".html", ".ipynb"), as_version=4
        )
        want_plots, want_clocks = _expected(executed)
        page, guard = opened(page_info["file"])
        page.wait_for_function(
            f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= "
            f"{want_plots} && document.querySelectorAll("
            f"'.llmclock-trace[data-mounted=ready]').length >= {want_clocks}"
        )
        plots = plotly_figures(page)
        assert len(plots) == want_plots, (page_info["name"], plots)
        if plots:
            assert_plotly_drawn(plots)  # each drawn, with traces or a heatmap in it
        assert page.locator(".llmclock-trace[data-mounted=ready]").count() == want_clocks
        text = page.locator("body").inner_text()
        for pattern in (BAD_TEXT, BROKEN_RENDER):
            match = pattern.search(text)
            assert not match, f"{page_info['file']}: {match.group(0)!r} on the page"
        # Previous / contents / next links lead to pages that exist, in the same edition;
        # the other edition's link to the same notebook's page there (or its index).
        hrefs = page.eval_on_selector_all(
            ".llmclock-nav a", "links => links.map(a => a.getAttribute('href'))"
        )
        assert "index.html" in hrefs
        if index + 1 < len(edition):
            assert edition[index + 1]["file"].split("/")[-1] in hrefs
        here = (out / page_info["file"]).parent
        assert all((here / h).exists() for h in hrefs), hrefs
        guard.assert_clean()


def test_math_and_prompts_on_the_english_page(opened, site):
    out, _ = site
    page, guard = opened("test_page.html")
    page.wait_for_selector(".js-plotly-plot .main-svg")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    # Math as MathML, not as TeX; the dollar in code is left alone.
    assert page.locator("math").count() == 2
    assert page.locator("math[display=block]").count() == 1
    text = page.locator("body").inner_text()
    assert "\\frac" not in text and "echo $HOME" in text
    assert page.locator(".jp-RenderedMarkdown a[href='00_the_clock.html']").count() == 1
    assert page.locator("a.llmclock-edition[href='zh/test_page.html']").count() == 2
    assert messages("en")("site.edition.zh") in text
    # JupyterLab's prompts ("[2]:"), not nbconvert's English "In [2]:".
    prompts = page.eval_on_selector_all(".jp-CodeCell .jp-InputPrompt",
                                        "ns => ns.map(n => n.innerText)")
    assert prompts == ["[1]:", "[2]:"]
    guard.assert_clean()


def _interface_text(page) -> str:
    """The page's text without the notebook's code, its text outputs, math and figures."""
    return page.evaluate("""() => {
        const copy = document.body.cloneNode(true);
        copy.querySelectorAll('.jp-InputArea-editor, .jp-RenderedText, .llmclock-plot-box, '
            + 'style, script, math').forEach(n => n.remove());
        return copy.innerText; }""")


# What the site and the player write themselves (no token, prompt or model name in them).
OWN_WORDS = (".llmclock-nav, .llmclock-snapshot-note, .jp-InputPrompt, .jp-OutputPrompt, "
             "details > summary, .trace-controls, .trace-keys, .trace-legend, .trace-settings, "
             ".trace-panel > div:first-child")


def test_the_chinese_page_speaks_chinese_at_720p(opened, site):
    """zh/test_page.html: lang zh-CN, every word of the interface from the Chinese catalogue
    (nav, titles, notes, the recorded clock, an untitled accordion part), none from the English
    one, Chinese drawn with a CJK font, and the clock's recording steps back."""
    out, _ = site
    zh, en = messages("zh"), messages("en")
    page, guard = opened("zh/test_page.html")
    page.wait_for_selector(".llmclock-trace[data-mounted=ready]")
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    assert page.title() == zh("site.page_title", title="测试用的一页")
    assert page.evaluate("() => innerWidth") == 1280
    text = page.locator("body").inner_text()
    for key in ("site.clock_note", "site.widget_note", "site.contents", "site.edition.en"):
        assert zh(key) in text, key
    assert zh("site.part", n=1) in text and "第一部分的内容" in text
    # The FigureWidget as it was at the end of the run, in its box with the other widgets.
    specs = [
        json.loads(s)
        for s in page.eval_on_selector_all(
            ".llmclock-plot-spec", "nodes => nodes.map(n => n.textContent)"
        )
    ]
    assert [5, 6, 7] in [list(t.get("y", [])) for s in specs for t in s["data"]]
    assert "一个盒子" in text and page.locator("input[type=range][disabled]").count() == 1
    assert page.locator(".jp-RenderedMarkdown a[href='00_the_clock.html']").count() == 1
    assert page.locator("math").count() == 1
    shown = _interface_text(page)
    english = [v for k, v in en.texts.items()
               if k.startswith(("site.", "player.", "status.", "phase.", "trace."))
               and len(v.strip()) > 3 and "{" not in v]
    assert not [e for e in english if e.strip() in shown], shown
    own = " ".join(page.eval_on_selector_all(OWN_WORDS, "ns => ns.map(n => n.innerText)"))
    assert "JupyterLab" in own and "第" in own
    own = re.sub(r"⟨[0-9a-f ]+⟩", "", own)  # byte tokens of the model, shown as their bytes
    words = set(re.findall(r"[A-Za-z]+", own))
    # Names and the terms the glossary keeps in English (top-k ...), the keys Home and End.
    assert words <= {"LLM", "JupyterLab", "top", "k", "p", "min", "Home", "End"}, words
    # The recorded clock in Chinese, opened at the newest tick, steps back.
    player = page.locator(".llmclock-trace")
    assert player.locator(".trace-position").inner_text() == zh("player.position", i=3, n=3)
    player.locator(".trace-back").click()
    status = player.locator(".trace-status").inner_text()
    assert status.startswith(zh("status.tick", index=2) + " · " + zh("phase.decode"))
    for selector in (".llmclock-nav", ".llmclock-snapshot-note", ".jp-RenderedMarkdown h1",
                     ".trace-status"):
        assert cjk_drawn(page, selector), f"{selector}: CJK drawn as missing-glyph boxes"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "site-zh-page.png"))
    guard.assert_clean()


def test_each_index_lists_its_edition_and_links_the_other(browser, site):
    out, pages = site
    for lang, index, back in (("en", out / "index.html", "zh/index.html"),
                              ("zh", out / "zh" / "index.html", "../index.html")):
        context, page, guard = open_file(browser, index)
        try:
            assert page.evaluate("() => document.documentElement.lang") == (
                "en" if lang == "en" else "zh-CN")
            listed = page.eval_on_selector_all(
                "ol a", "links => links.map(a => a.getAttribute('href'))")
            assert listed == [p["file"].split("/")[-1] for p in pages if p["lang"] == lang]
            other = "zh" if lang == "en" else "en"
            edition = page.locator(".llmclock-edition a")
            assert edition.get_attribute("href") == back
            assert edition.inner_text() == messages(lang)(f"site.edition.{other}")
            if lang == "zh":
                assert cjk_drawn(page, "h1"), "CJK drawn as missing-glyph boxes"
                assert "Clock" not in page.locator("body").inner_text()
            guard.assert_clean()
        finally:
            context.close()
