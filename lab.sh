#!/usr/bin/env bash
# Sets everything up on first use, then opens JupyterLab on the notebooks (127.0.0.1 only).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
PORT=${PORT:-8888}
# jupyter_config/: kernels over Unix sockets (not TCP), no news pop-up (see the file).
ARGS=(--ip=127.0.0.1 --port="$PORT" --notebook-dir="$PWD/notebooks" --ServerApp.open_browser="${OPEN_BROWSER:-True}"
      --config="$PWD/jupyter_config/jupyter_server_config.py")
[ "$(id -u)" = 0 ] && ARGS+=(--allow-root)
echo "==> Starting JupyterLab; open the http://127.0.0.1:$PORT/lab?token=... URL printed below. Stop with Ctrl-C."
exec .venv/bin/jupyter lab "${ARGS[@]}" "$@"
