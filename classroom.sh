#!/usr/bin/env bash
# A classroom server on this machine: JupyterHub on http://127.0.0.1:${CLASSROOM_PORT:-8000},
# each student with their own Jupyter server and kernels, all sharing one read-only model
# folder. Installs what it needs on first use (classroom/install.sh). docs/teaching.md explains
# the settings (classroom/jupyterhub_config.py); log in with any name and the class password
# (with CLASSROOM_UNIX_USERS=1: only a name of CLASSROOM_STUDENTS or of CLASSROOM_GROUP).
set -euo pipefail
cd "$(dirname "$0")"
export CLASSROOM_STATE=${CLASSROOM_STATE:-$PWD/classroom/state}
export CLASSROOM_MODEL_DIR=${CLASSROOM_MODEL_DIR:-$CLASSROOM_STATE/models}
mkdir -p "$CLASSROOM_STATE"
classroom/install.sh
if [ -z "${CLASSROOM_PASSWORD:-}" ] && [ "${CLASSROOM_UNIX_USERS:-}" != 1 ]; then
  export CLASSROOM_PASSWORD=llm-clock-class
  echo "==> Class password: $CLASSROOM_PASSWORD (set CLASSROOM_PASSWORD=... to choose one)"
fi
echo "==> Starting JupyterHub on http://127.0.0.1:${CLASSROOM_PORT:-8000}/ - stop it with Ctrl-C."
cd "$CLASSROOM_STATE"
exec "$OLDPWD/.venv/bin/jupyterhub" -f "$OLDPWD/classroom/jupyterhub_config.py" "$@"
