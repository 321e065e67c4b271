#!/usr/bin/env bash
# Re-lock the dependencies after a change to pyproject.toml: requirements.txt (runtime) and requirements-dev.txt
# (runtime + dev + deploy), both with a hash for every file of every package. Versions already locked stay unless
# pyproject.toml needs others; pass --upgrade (everything) or --upgrade-package NAME to move on.
# uv runs from a scratch venv outside the project, so the project's .venv keeps only what the lock says.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.8
tools="${LOCK_TOOLS_VENV:-${TMPDIR:-/tmp}/distansstod-lock-tools}"
if [ ! -x "$tools/bin/uv" ]; then
  python3.11 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
common=(--quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "bash scripts/lock.sh")
"$tools/bin/uv" pip compile pyproject.toml "${common[@]}" -o requirements.txt "$@"
# The dev lock is held to the runtime lock's versions, so tests run what the container runs.
"$tools/bin/uv" pip compile pyproject.toml --extra dev -c requirements.txt "${common[@]}" -o requirements-dev.txt "$@"
