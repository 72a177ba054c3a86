#!/usr/bin/env bash
# Serves the clock widget as a full-screen web app for live demos (Voila: the notebook's outputs
# only, no code cells), on 127.0.0.1 only, behind a login token. Sets everything up first, like
# ./lab.sh. PORT=8877 ./demo.sh picks the port; DEMO_TOKEN=... fixes the token.
# Each page load gets a kernel of its own: DEMO_MAX_VISITORS (6) kernels at most, one more visitor
# is asked to try again in a minute; a closed page frees its kernel at once, a page that never
# connected or dropped its connection after DEMO_IDLE_SECONDS (120). demo/config/voila.py.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
PORT=${PORT:-8866}
TOKEN=${DEMO_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')}
# demo/voila holds the "llmclock" template (Voila's lab template minus its CDN stylesheets).
export JUPYTER_PATH="$PWD/demo${JUPYTER_PATH:+:$JUPYTER_PATH}"
# Notebook 7's JupyterLab extension and Voila's JupyterLab preview button are for JupyterLab:
# inside Voila they fail to load (and take the plotly widgets down with them).
ARGS=(demo/clock_app.ipynb --no-browser --Voila.ip=127.0.0.1 --port="$PORT" --Voila.port_retries=0
      --Voila.config_file_paths="$PWD/demo/config" --token="$TOKEN"
      --theme=light --template=llmclock
      --VoilaConfiguration.extension_denylist=@jupyter-notebook/lab-extension
      --VoilaConfiguration.extension_denylist=@voila-dashboards/jupyterlab-preview)
echo "==> Starting the LLM Clock demo app. Open this URL in a browser (Ctrl-C stops the server):"
echo "    http://127.0.0.1:$PORT/?token=$TOKEN"
exec .venv/bin/voila "${ARGS[@]}" "$@"
