#!/usr/bin/env bash
# Builds the single-user image for a class on Kubernetes (classroom/z2jh-values.yaml) with
# repo2docker, from this repository's committed files: environment.yml (the packages) and
# postBuild (the embedded models' wheels, both models converted and made read-only, the Jupyter
# settings). The repository lands at /srv/llm-clock in the image, outside /home/jovyan, where
# Zero to JupyterHub mounts each student's home volume; the values file points
# LLM_CLOCK_MODEL_DIR at /srv/llm-clock/data/models, so pods start without converting anything.
# Needs Docker and repo2docker (pip install jupyter-repo2docker); not run by the tests (no Docker
# there): tests/test_z2jh_values.py checks that this script, postBuild and the values file agree.
#   classroom/build-image.sh REGISTRY/llm-clock:TAG && docker push REGISTRY/llm-clock:TAG
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=${1:?"usage: classroom/build-image.sh REGISTRY/llm-clock:TAG"}
REPO_DIR_IN_IMAGE=/srv/llm-clock
if ! command -v repo2docker >/dev/null; then
  echo "classroom/build-image.sh needs repo2docker (pip install jupyter-repo2docker)" \
       "and Docker." >&2
  exit 1
fi
if [ -n "$(git status --porcelain)" ]; then
  echo "Note: uncommitted changes are NOT in the image (it is built from HEAD," \
       "$(git rev-parse --short HEAD))." >&2
fi
# Only committed files: no local .venv, converted models or class state go into the image.
SRC=$(mktemp -d)
trap 'rm -rf "$SRC"' EXIT
git archive HEAD | tar -x -C "$SRC"
repo2docker --no-run --user-id 1000 --user-name jovyan --target-repo-dir "$REPO_DIR_IN_IMAGE" \
  --image-name "$IMAGE" "$SRC"
echo "==> Built $IMAGE. Push it, then put its name and tag in classroom/z2jh-values.yaml."
