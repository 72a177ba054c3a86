#!/usr/bin/env bash
# Sets everything up on first use, then opens JupyterLab on the notebooks (127.0.0.1 only).
# ./lab.sh zh: the Chinese edition (notebooks/zh), which also installs and converts Gemma 3 270M.
set -euo pipefail
cd "$(dirname "$0")"
NOTEBOOKS=$PWD/notebooks
if [ "${1:-}" = zh ]; then
  shift
  NOTEBOOKS=$PWD/notebooks/zh
  [ -d "$NOTEBOOKS" ] || {
    echo "notebooks/zh is missing: update your copy (git pull)." >&2; exit 1; }
  scripts/setup.sh zh
else
  scripts/setup.sh
fi
PORT=${PORT:-8888}
# jupyter_config/: kernels over Unix sockets (not TCP), no news pop-up (see the file).
ARGS=(--ip=127.0.0.1 --port="$PORT" --notebook-dir="$NOTEBOOKS"
      --ServerApp.open_browser="${OPEN_BROWSER:-True}"
      --config="$PWD/jupyter_config/jupyter_server_config.py")
[ "$(id -u)" = 0 ] && ARGS+=(--allow-root)
echo "==> Starting JupyterLab; open the http://127.0.0.1:$PORT/lab?token=... URL printed below." \
  "Stop with Ctrl-C."
exec .venv/bin/jupyter lab "${ARGS[@]}" "$@"
