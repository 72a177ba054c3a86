#!/usr/bin/env bash
# Installs what the classroom server needs on top of ./lab.sh's set-up, on first use only:
# JupyterHub from PyPI into .venv (requirements-classroom.txt) and its proxy,
# configurable-http-proxy, from the npm registry into classroom/node_modules (never globally);
# then the class's shared, read-only copy of the converted model (CLASSROOM_MODEL_DIR).
# Usage: classroom/install.sh [test]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh "${1:-}"
STAMP=$(cat requirements-classroom.txt classroom/package.json classroom/install.sh \
        | sha256sum | cut -c1-16)
if [ "$(cat .venv/.stamp-classroom 2>/dev/null)" != "$STAMP" ]; then
  echo "==> Installing JupyterHub (PyPI) and its proxy (npm) for the classroom server"
  .venv/bin/python -m pip install --disable-pip-version-check -q -r requirements-classroom.txt \
    -c <(echo "torch==2.13.0") 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  if ! command -v npm >/dev/null; then
    echo "The classroom server's proxy is an npm package:" \
         "install Node.js 20 or newer (with npm), then retry." >&2
    exit 1
  fi
  npm install --prefix classroom --no-audit --no-fund --loglevel=error
  echo "$STAMP" > .venv/.stamp-classroom
fi

# The shared model folder: a copy of the converted model that students can read and not
# write (folders 0555, files 0444). Copied again only when the stamp differs.
MODELS=${CLASSROOM_MODEL_DIR:-$PWD/classroom/state/models}
SRC=$(.venv/bin/python -c "from helpers.embedded import embedded_model_dir as d; print(d())")
DST=$MODELS/$(basename "$SRC")
# (Also when the copy has no checksum record, .llm-clock-verified.json: without one, every
# student's kernel would re-check the checksums of the read-only copy.)
if ! cmp -s "$SRC/.llm-clock-stamp.json" "$DST/.llm-clock-stamp.json" 2>/dev/null \
   || [ ! -f "$DST/.llm-clock-verified.json" ]; then
  echo "==> Copying the model to the class's read-only folder $DST"
  mkdir -p "$MODELS"
  [ -d "$DST" ] && chmod -R u+w "$DST" && rm -rf "$DST"
  cp -rp "$SRC" "$DST.partial"  # -p: same modification times, so its checksum record holds
  rm -f "$DST.partial/.llm-clock.lock"
  chmod 0444 "$DST.partial"/* "$DST.partial"/.llm-clock-stamp.json
  chmod 0555 "$DST.partial"
  mv "$DST.partial" "$DST"
fi
chmod 0755 "$MODELS" "$(dirname "$MODELS")"

# With CLASSROOM_UNIX_USERS=1 every student's server runs as that student's Unix user, who must
# be able to run the interpreter. When .venv's interpreter lives where other users cannot go
# (pyenv under /root, a home folder of mode 0700), make a small venv for students from a system
# Python of the same version that reads .venv's packages (no second copy of torch).
STUDENT_VENV=${CLASSROOM_STATE:-$PWD/classroom/state}/student-venv
if [ "${CLASSROOM_UNIX_USERS:-}" = 1 ] && [ "$(id -u)" = 0 ]; then
  REAL=$(readlink -f .venv/bin/python)
  if ! runuser -u nobody -- test -x "$REAL" || ! runuser -u nobody -- test -r "$PWD/.venv/lib"; then
    VER=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    SYS_PY=
    for candidate in /usr/bin/python$VER /usr/local/bin/python$VER; do
      if [ -x "$candidate" ] && runuser -u nobody -- test -x "$(readlink -f "$candidate")"; then
        SYS_PY=$candidate && break
      fi
    done
    if [ -z "$SYS_PY" ]; then
      echo "Students cannot run $REAL (its folder is private) and there is no" \
           "python$VER they can run. Install the project where every user can read it" \
           "(e.g. /opt/llm-clock), or install python$VER." >&2
      exit 1
    fi
    if [ ! -x "$STUDENT_VENV/bin/python" ]; then
      echo "==> Making an interpreter students can run: $STUDENT_VENV ($SYS_PY + .venv's packages)"
      "$SYS_PY" -m venv --without-pip "$STUDENT_VENV"
    fi
    SITE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    STUDENT_SITE=$("$STUDENT_VENV/bin/python" -c \
                   'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "import site; site.addsitedir('$SITE')" > "$STUDENT_SITE/llm-clock-venv.pth"
    chmod -R a+rX "$STUDENT_VENV"
  fi
fi
