"""Drive a real JupyterLab in headless Chromium: start the server, open a notebook, run it,
read what the browser shows (errors, plotly figures, bertviz views), take screenshots.

Everything here is plain functions over a Playwright `Page`; the pytest fixtures that own
the server and the browser live in conftest.py. JupyterLab is started with
`expose_app_in_browser`, so `window.jupyterapp` (the running application) is reachable and
commands such as `notebook:run-all-cells` run through its command registry, exactly as the
Run menu would run them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
VENV_JUPYTER = REPO / ".venv" / "bin" / "jupyter"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "browser"

# As root Chromium needs --no-sandbox; the background-networking flags stop it from calling
# home (update checks, field trials), which the closed network would refuse anyway.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

# Text that means something broke while rendering, whatever cell it appears in.
BROKEN_RENDER = re.compile(
    r"Javascript Error|Error displaying widget|Traceback \(most recent call last\)|Error rendering",
    re.I,
)

# JupyterLab settings for a quiet, deterministic test session (user settings dir is a temp folder).
LAB_SETTINGS = {
    # No "Would you like to receive official Jupyter news?" toast, no update check.
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # Every cell attached to the DOM: the output checks and full screenshots see the whole notebook.
    # recordTiming: each cell's execution times land in its metadata, to report the slow cells.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "scrollPastEnd": False,
                                               "recordTiming": True},
}


# --------------------------------------------------------------------------- server


@dataclass
class LabServer:
    process: subprocess.Popen
    base_url: str
    token: str
    root_dir: Path
    log_path: Path

    def api(self, method: str, path: str) -> object:
        """Call the Jupyter REST API with the token; returns parsed JSON (or None)."""
        request = urllib.request.Request(
            f"{self.base_url}{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_all_kernels(self) -> None:
        """Each notebook loads the 135M model in its kernel: free the memory between tests."""
        for session in self.api("GET", "/api/sessions") or []:
            self.api("DELETE", f"/api/sessions/{session['id']}")
        for kernel in self.api("GET", "/api/kernels") or []:
            self.api("DELETE", f"/api/kernels/{kernel['id']}")

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path}{sep}token={self.token}"

    def log_tail(self, n_chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-n_chars:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_lab(root_dir: Path, work_dir: Path, timeout_s: float = 90.0) -> LabServer:
    """Start `jupyter lab` from the project venv on 127.0.0.1 and wait until /api/status answers."""
    port, token = free_port(), secrets.token_hex(16)
    settings_dir = work_dir / "lab-settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings_dir / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = {
        **os.environ,
        # Isolated from the user's own Jupyter config, settings, workspaces and runtime files.
        "JUPYTER_CONFIG_DIR": str(work_dir / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(work_dir / "jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings_dir),
        "JUPYTERLAB_WORKSPACES_DIR": str(work_dir / "lab-workspaces"),
        "HF_HUB_OFFLINE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    args = [
        str(VENV_JUPYTER), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.port_retries=0",
        # the project's server settings, as ./lab.sh uses them (kernels over Unix sockets)
        f"--config={REPO / 'jupyter_config' / 'jupyter_server_config.py'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:
        args.append("--allow-root")
    log_path = work_dir / "jupyter-lab.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root_dir,
                               start_new_session=True)
    server = LabServer(process, f"http://127.0.0.1:{port}", token, root_dir, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with code {process.returncode}:\n"
                               f"{server.log_tail()}")
        try:
            server.api("GET", "/api/status")
            return server
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    stop_lab(server)
    raise RuntimeError(f"jupyter lab did not answer /api/status within {timeout_s:.0f} s:\n"
                       f"{server.log_tail()}")


def stop_lab(server: LabServer) -> None:
    """Stop the server and the kernels it started (they share its process group)."""
    try:
        server.shutdown_all_kernels()
    except Exception:
        pass
    try:
        os.killpg(server.process.pid, 15)
        server.process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(server.process.pid, 9)
        except ProcessLookupError:
            pass


def copy_notebooks(src: Path, dst: Path) -> Path:
    """A throwaway copy of notebooks/: runs in the browser never write into committed files."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return dst


# --------------------------------------------------------------------------- browser


def chromium_problem() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium is usable."""
    if not CHROMIUM.exists():
        return (f"{CHROMIUM} is missing: run scripts/install-browser.sh "
                "(Debian: apt-get install chromium)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright (Python) is not installed: run scripts/setup.sh test"
    return None


@dataclass
class PageGuard:
    """Records everything a page must not do: talk to other hosts, log errors, crash."""

    blocked: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def route(self, route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def on_console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def on_page_error(self, error) -> None:
        self.page_errors.append(str(error))

    def attach(self, context) -> None:
        context.route("**/*", self.route)
        context.on("console", self.on_console)
        context.on("weberror", lambda web_error: self.on_page_error(web_error.error))

    def problems(self) -> list[str]:
        found = [f"request to another host (blocked: the project must work offline): {u}"
                 for u in self.blocked]
        found += [f"uncaught page error: {e}" for e in self.page_errors]
        found += [f"console error: {e}" for e in self.console_errors
                  if not _benign_console_error(e)]
        return found

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "the browser saw:\n" + "\n".join(problems)


def _benign_console_error(text: str) -> bool:
    # Blocked requests log "Failed to load resource" as well: they are reported once, by URL,
    # through `blocked`. Nothing else is excused.
    return "net::ERR_FAILED" in text and "Failed to load resource" in text


# --------------------------------------------------------------------------- notebooks


def open_notebook(page, server: LabServer, relative_path: str, timeout_ms: int = 60_000) -> None:
    """Open a notebook in a fresh JupyterLab layout and wait until its kernel is ready."""
    page.goto(server.url(f"lab/tree/{relative_path}?reset"), wait_until="domcontentloaded")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=timeout_ms)
    page.wait_for_function(
        """(path) => {
            const w = window.jupyterapp.shell.currentWidget;
            return !!(w && w.context && w.context.path === path && w.content && w.content.widgets
                      && w.context.isReady && w.sessionContext && w.sessionContext.session
                      && w.sessionContext.session.kernel
                      && w.sessionContext.session.kernel.connectionStatus === 'connected'
                      && w.sessionContext.session.kernel.status === 'idle');
        }""",
        arg=relative_path,
        timeout=timeout_ms,
    )
    # More room for the notebook: close the file browser.
    page.evaluate(
        """() => { window.__nbPanel = window.jupyterapp.shell.currentWidget;
                   window.jupyterapp.shell.collapseLeft(); }"""
    )


def run_all_cells(page, timeout_s: float = 240.0) -> float:
    """Run All Cells through JupyterLab's command registry; wait until done; return seconds."""
    started = time.monotonic()
    page.evaluate("() => { window.__nbPanel.content.activate();"
                  "  window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    wait_until_idle(page, timeout_s)
    return time.monotonic() - started


_STATE_JS = (
    "() => {\n"
    "    const panel = window.__nbPanel;\n"
    "    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;\n"
    "    const prompts = [...panel.node.querySelectorAll('.jp-InputArea-prompt')]"
    ".map(p => p.textContent);\n"
    "    const cells = panel.content.widgets.filter(c => c.model.type === 'code');\n"
    "    return { kernel: kernel ? kernel.status : 'none', "
    "busyPrompts: prompts.filter(p => p.includes('*')).length,\n"
    "             unexecuted: cells.filter(c => c.model.executionCount === null "
    "&& c.model.sharedModel.getSource().trim()).length };\n"
    "}"
)


def notebook_state(page) -> dict:
    return page.evaluate(_STATE_JS)


def wait_until_idle(page, timeout_s: float) -> dict:
    """Done = kernel idle and no `[*]` prompt, seen twice 0.5 s apart (run-all has gaps between
    cells)."""
    deadline = time.monotonic() + timeout_s
    calm = 0
    state: dict = {}
    while time.monotonic() < deadline:
        state = notebook_state(page)
        calm = calm + 1 if state["kernel"] == "idle" and state["busyPrompts"] == 0 else 0
        if calm >= 2:
            return state
        time.sleep(0.5)
    running = page.evaluate(
        "() => window.__nbPanel.content.widgets\n"
        "                 .filter(c => c.model.type === 'code' "
        "&& c.node.querySelector('.jp-InputArea-prompt').textContent.includes('*'))\n"
        "                 .map(c => c.model.sharedModel.getSource().split('\\n')[0].slice(0, 80))"
    )
    where = f"; running or queued from: {running[0]!r}" if running else ""
    raise AssertionError(f"notebook still running after {timeout_s:.0f} s: {state}{where}")


_OUTPUTS_JS = ("""() => {
    const found = [];
    window.__nbPanel.content.widgets.forEach((cell, index) => {
        if (cell.model.type !== 'code') return;
        const outputs = cell.model.outputs.toJSON();
        for (const out of outputs) {
            const text = (t) => Array.isArray(t) ? t.join('') : (t || '');
            if (out.output_type === 'error') found.push({cell: index, kind: 'error',
                text: out.ename + ': ' + out.evalue});
            else if (out.output_type === 'stream' && out.name === 'stderr') found.push({cell: index,
                kind: 'stderr', text: text(out.text)});
        }
        if (cell.model.executionCount === null && cell.model.sharedModel.getSource().trim())
            found.push({cell: index, kind: 'not run', """
               """text: cell.model.sharedModel.getSource().slice(0, 80)});
    });
    return found;
}""")


_TIMING_JS = ("""() => window.__nbPanel.content.widgets.map((cell, index) => {
    const t = cell.model.type === 'code' ? cell.model.getMetadata('execution') : null;
    if (!t || !t['iopub.execute_input'] || !t['shell.execute_reply']) return null;
    return [index, (Date.parse(t['shell.execute_reply']) """
              """- Date.parse(t['iopub.execute_input'])) / 1000,
            cell.model.sharedModel.getSource().split('\\n')[0].slice(0, 70)];
}).filter(Boolean)""")


def slowest_cells(page, n: int = 3) -> list[tuple[int, float, str]]:
    """(cell index, seconds, first line) of the n slowest code cells of the last run."""
    timings = [tuple(t) for t in page.evaluate(_TIMING_JS)]
    return sorted(timings, key=lambda t: -t[1])[:n]


_CELLS_JS = ("() => window.__nbPanel.content.widgets.map(cell => [\n"
             "    cell.model.sharedModel.getSource(), "
             "cell.model.type === 'code' ? cell.model.outputs.toJSON() : []])")


def notebook_cells(page) -> list[tuple[str, list[dict]]]:
    """(source, outputs as nbformat JSON) of every cell, as the notebook would be saved now."""
    return [(source, outputs) for source, outputs in page.evaluate(_CELLS_JS)]


def output_problems(page) -> list[str]:
    """Errors, stderr, unexecuted cells (from the notebook model) and broken renders (from the
    DOM)."""
    problems = [f"cell {p['cell']}: {p['kind']}: {p['text'][:400]}"
                for p in page.evaluate(_OUTPUTS_JS)]
    rendered = page.evaluate(
        # Whole output children: a failed renderer replaces the output node's classes with
        # "jp-RenderedText" and writes "Javascript Error: ..." into it.
        """() => [...window.__nbPanel.node.querySelectorAll('.jp-OutputArea-child')]
                 .map(n => n.innerText || '')"""
    )
    for text in rendered:
        match = BROKEN_RENDER.search(text)
        if match:
            start = max(0, match.start() - 100)
            problems.append(f"rendered output shows {match.group(0)!r}: "
                            f"...{text[start:match.end() + 300]}")
    # Anywhere else on the page too (dialogs, other panels).
    if not problems and "Javascript Error" in page.evaluate("() => document.body.innerText"):
        problems.append("the page shows 'Javascript Error' outside the notebook outputs")
    return problems


def assert_notebook_clean(page) -> None:
    problems = output_problems(page)
    assert not problems, "notebook outputs in the browser:\n" + "\n".join(problems)


# --------------------------------------------------------------------------- figures


_PLOTLY_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(plot => {
    const svg = plot.querySelector('.main-svg');
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    const title = plot.querySelector('.gtitle');
    return {
        drawn: !!svg, width: box.width, height: box.height,
        title: title ? title.textContent : '',
        traces: plot.querySelectorAll('.trace').length,
        bars: plot.querySelectorAll('.trace.bars .point path').length,
        scatterPoints: plot.querySelectorAll('.trace.scatter .point').length,
        lines: plot.querySelectorAll('.trace.scatter .js-line').length,
        heatmaps: plot.querySelectorAll('.hm image').length,
        xTicks: [...plot.querySelectorAll('.xtick text')].map(t => t.textContent),
        yTicks: [...plot.querySelectorAll('.ytick text')].map(t => t.textContent),
        pointTexts: [...plot.querySelectorAll('.textpoint text')].map(t => t.textContent),
        inWidget: !!plot.closest('.llmclock'),
        cell: (() => { const c = plot.closest('.jp-Cell');
                       return c ? [...c.parentNode.children].indexOf(c) : -1; })(),
    };
})"""


def plotly_figures(page) -> list[dict]:
    """What each plotly figure on the page drew: traces, bars, heatmap images, tick labels."""
    return page.evaluate(_PLOTLY_JS)


def assert_plotly_drawn(figures: list[dict], at_least: int = 1) -> None:
    """Every figure is a drawn, non-empty SVG with something plotted in it."""
    assert len(figures) >= at_least, (
        f"expected at least {at_least} plotly figure(s), found {len(figures)}")
    for i, fig in enumerate(figures):
        label = f"plotly figure {i} ({fig['title']!r}, cell {fig['cell']})"
        assert fig["drawn"] and fig["width"] > 50 and fig["height"] > 50, (
            f"{label} is not drawn: {fig}")
        # A widget's figure may be empty until it is used (the clock before its first tick);
        # the widget tests drive those. A figure a cell shows must have data.
        if not fig["inWidget"]:
            assert fig["traces"] + fig["heatmaps"] > 0, f"{label} has no traces: {fig}"


# bertviz's views live in <div id="bertviz-<uuid>">; the head view writes each token as SVG text
# (left and right columns) and draws attention as lines between them.
_BERTVIZ_JS = """() => [...document.querySelectorAll('[id^="bertviz-"]')].map(root => ({
    id: root.id,
    texts: [...root.querySelectorAll('svg text')].map(t => t.textContent.trim()).filter(Boolean),
    lines: root.querySelectorAll('svg line, svg path').length,
    rects: root.querySelectorAll('svg rect').length,
}))"""


def bertviz_views(page) -> list[dict]:
    """Each bertviz view on the page: the token labels its SVG drew, its lines and boxes."""
    return page.evaluate(_BERTVIZ_JS)


def assert_bertviz_drawn(views: list[dict], at_least: int = 1,
                         tokens: list[str] | None = None) -> None:
    """Each view drew SVG (token labels for the head view); `tokens` must all appear as labels."""
    assert len(views) >= at_least, (
        f"expected at least {at_least} bertviz view(s), found {len(views)}")
    for view in views:
        assert view["texts"] or view["rects"], f"bertviz view {view['id']} drew nothing: {view}"
    if tokens:
        labels = {t for view in views for t in view["texts"]}
        missing = [t for t in tokens if t.strip() not in labels]
        assert not missing, f"bertviz token labels missing {missing}; drew {sorted(labels)[:40]}"


def assert_everything_drawn_clean(page) -> None:
    """The checks every notebook gets after Run All: clean outputs, all figures and views drawn."""
    assert_notebook_clean(page)
    figures = plotly_figures(page)
    if figures:
        assert_plotly_drawn(figures)
    views = bertviz_views(page)
    if views:
        assert_bertviz_drawn(views)


# --------------------------------------------------------------------------- screenshots


def screenshot_notebook(page, name: str, max_height: int = 16000) -> Path:
    """The whole notebook in one PNG: grow the viewport to the notebook's height, shoot, restore."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    viewport = page.viewport_size
    scroller = ".jp-WindowedPanel-outer"
    content_height = page.evaluate(
        f"() => {{ const s = window.__nbPanel.node.querySelector('{scroller}');"
        f"  return s ? s.scrollHeight - s.clientHeight : 0; }}"
    )
    page.set_viewport_size({"width": viewport["width"],
                            "height": min(max_height, viewport["height"] + content_height)})
    page.wait_for_timeout(500)  # let plotly re-layout to the new size
    page.screenshot(path=str(path))
    page.set_viewport_size(viewport)
    return path


def screenshot_element(locator, name: str) -> Path:
    """One element in one PNG. JupyterLab scrolls inside its notebook panel, not the page, so a
    tall element would be cut at the window's edge: the viewport grows to fit it first."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page = locator.page
    viewport = page.viewport_size
    height = locator.evaluate("el => el.getBoundingClientRect().height")
    if height + 200 > viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": int(height) + 200})
        page.wait_for_timeout(300)
    locator.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(200)
    try:
        locator.screenshot(path=str(path))
    finally:
        page.set_viewport_size(viewport)
    return path


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> Path:
    """A small notebook from (cell_type, source) pairs; for the harness's own tests."""
    nb = {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}},
        "cells": [
            {"cell_type": kind, "id": f"c{i}", "metadata": {}, "source": source,
             **({"outputs": [], "execution_count": None} if kind == "code" else {})}
            for i, (kind, source) in enumerate(cells)
        ],
    }
    path.write_text(json.dumps(nb, indent=1))
    return path
