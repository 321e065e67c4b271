#!/usr/bin/env bash
# Set up and run every check: content validation, lint, types, and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
. .venv/bin/activate
python -m bot check-content
ruff check .
mypy bot dialogs
python -m pytest -q -p no:cacheprovider "$@"
