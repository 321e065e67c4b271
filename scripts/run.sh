#!/usr/bin/env bash
# Set up and run the bot on its embedded defaults: SQLite in ./data, the content in ./content,
# local mode (no Microsoft credentials) on http://127.0.0.1:3978/api/messages.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m bot "$@"
