"""Fixtures for the browser tests: one JupyterLab server and one headless Chromium per session,
a fresh browser context (with the offline guard) per test.

The server runs on a throwaway copy of notebooks/, so running the notebooks in the browser
never writes outputs into the committed files. Without a usable /usr/bin/chromium every
browser test is skipped, naming the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from lab_driver import (
    CHROMIUM, CHROMIUM_ARGS, REPO, LabServer, PageGuard, chromium_problem, copy_notebooks,
    start_lab, stop_lab,
)

VIEWPORT = {"width": 1280, "height": 720}  # a classroom projector


@dataclass
class LabPage:
    page: object          # playwright.sync_api.Page
    guard: PageGuard
    server: LabServer


@pytest.fixture(scope="session")
def browser():
    problem = chromium_problem()
    if problem:
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              headless=True)
    except Exception as error:  # a broken install must skip loudly, not fail every test
        playwright.stop()
        pytest.skip(f"{CHROMIUM} failed to launch: {str(error).splitlines()[0]}")
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    return copy_notebooks(REPO / "notebooks", tmp_path_factory.mktemp("lab") / "notebooks")


@pytest.fixture(scope="session")
def lab_server(browser, lab_root, tmp_path_factory):
    server = start_lab(lab_root, tmp_path_factory.mktemp("lab-state"))
    yield server
    stop_lab(server)


@pytest.fixture
def lab(browser, lab_server):
    """A fresh browser context on the server; every request to another host is blocked and
    recorded."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    guard = PageGuard()
    guard.attach(context)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield LabPage(page, guard, lab_server)
    context.close()
    lab_server.shutdown_all_kernels()
