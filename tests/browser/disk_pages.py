"""Open HTML files from disk (file://) in headless Chromium with the offline guard of lab_driver:
every request that leaves the machine is refused and recorded, console errors are recorded.
Used by the trace-player and HTML-edition tests."""

from __future__ import annotations

from pathlib import Path

from lab_driver import PageGuard

VIEWPORT = {"width": 1280, "height": 720}


class DiskGuard(PageGuard):
    """PageGuard that also lets the page read files from disk (the page itself, local assets)."""

    def route(self, route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            super().route(route)


def open_file(browser, path: Path, viewport: dict | None = None):
    """A fresh context and page showing `path`; returns (context, page, guard)."""
    context = browser.new_context(viewport=viewport or VIEWPORT, device_scale_factor=1)
    guard = DiskGuard()
    guard.attach(context)
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(Path(path).resolve().as_uri())
    return context, page, guard
