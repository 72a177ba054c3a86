#!/usr/bin/env bash
# The standalone ipywidgets renderer, @jupyter-widgets/html-manager (the package that front ends
# other than JupyterLab build on), for tests/browser/test_widgets_without_jupyterlab.py.
# Taken from the npm registry by `npm pack` (no dependencies: its dist/embed.js is one bundle),
# checked against the integrity recorded below, unpacked into tests/browser/html_manager/ and
# served from localhost by the test: never from a CDN. First run only.
set -uo pipefail
cd "$(dirname "$0")/.."
VERSION=1.0.15
INTEGRITY="sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//"
INTEGRITY+="SABeNz1yp47bCrJ3CQA=="
DEST=tests/browser/html_manager
[ "$(cat "$DEST/VERSION" 2>/dev/null)" = "$VERSION" ] && [ -f "$DEST/dist/embed.js" ] && exit 0
command -v npm >/dev/null || {
  echo "No npm here: the widget render test (without JupyterLab) will be skipped." >&2; exit 1; }
echo "==> Fetching the standalone widget renderer @jupyter-widgets/html-manager $VERSION" \
  "(first run only)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack -q "@jupyter-widgets/html-manager@$VERSION" >/dev/null) || {
  echo "npm pack failed: the widget render test will be skipped." >&2; exit 1; }
tarball=$(ls "$tmp"/*.tgz)
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got" != "$INTEGRITY" ]; then
  echo "html-manager $VERSION: integrity mismatch ($got); not installed." >&2; exit 1
fi
rm -rf "$DEST/dist"; mkdir -p "$DEST"
# embed.js and the icon fonts it loads beside itself (not the AMD build, not the source map).
tar -xzf "$tarball" -C "$DEST" --strip-components=1 --wildcards package/dist/embed.js \
  package/dist/embed.js.LICENSE.txt package/package.json 'package/dist/*.woff*' \
  'package/dist/*.ttf' 'package/dist/*.eot' 'package/dist/*.svg'
echo "$VERSION" > "$DEST/VERSION"
