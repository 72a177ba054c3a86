#!/usr/bin/env bash
# Sets everything up on first use (packages, both embedded models, headless Chromium for the
# browser tests) and runs the whole test suite. Extra arguments go to pytest,
# e.g. ./test.sh -m "not slow" for the fast tier only. Two pytest-xdist workers share the
# tests (tests/work_units.py says how); ./test.sh -n 0 runs them in this one process.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh test
scripts/install-browser.sh || true   # the browser tests skip, naming the reason, if this failed
scripts/install-widget-renderer.sh || true   # likewise the render test without JupyterLab
exec .venv/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder "$@"
