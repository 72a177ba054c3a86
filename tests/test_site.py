"""The offline HTML edition's pieces that need no kernel and no browser (helpers.build.site): math to
MathML, widgets to static HTML, notebook outputs made static. The whole build is tested in
tests/browser/test_site_in_browser.py."""

from __future__ import annotations

import json

import ipywidgets as w
import nbformat
import plotly.graph_objects as go

from helpers.build.site import _math_to_placeholders, _prepare, static_widget_html


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
    from helpers.build.site import _index_page, _nav

    name = "x'><img src=x onerror=alert(1)>"
    pages = [{"name": "a", "file": "a.html", "title": "First"},
             {"name": name, "file": f"{name}.html", "title": "<script>alert(2)</script>"},
             {"name": "c", "file": "c.html", "title": "Last"}]
    for page in (_index_page(pages), _nav(pages, 0), _nav(pages, 2)):
        assert "<img" not in page and "<script" not in page
    index = _index_page(pages)
    assert "x&#x27;&gt;&lt;img" in index  # the name shown as text
    assert "href='x%27%3E%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.html'" in index


def test_the_notebooks_markdown_loads_nothing_remote_and_runs_no_script():
    """What the README's "no network" promise for the offline edition rests on."""
    import re

    from helpers.build.site import NOTEBOOKS

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
