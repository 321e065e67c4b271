#!/usr/bin/env bash
# The Playground tour (issue 17): greeting, a Swedish question, a tapped related question, 👍, the remote-work
# checklist to its result, and HR writing, previewing and publishing a lägesbild to the team's channel, in
# Swedish with the Playground's en-US locale. Screenshots go to OUT (default /tmp/playground-tour).
#
#   . .venv/bin/activate && bash scripts/playground-tour.sh [OUT]
#
# Needs root (the shared wrapper's network namespace), Chromium at /usr/bin/chromium and a Python with
# playwright and aiohttp (PLAYWRIGHT_PYTHON, default: python). The user is the example HR user.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${1:-/tmp/playground-tour}"
DATA="$(mktemp -d)"
trap 'rm -rf "$DATA"' EXIT
export M365_AGENTS_PLAYGROUND_CONFIG_PATH="${M365_AGENTS_PLAYGROUND_CONFIG_PATH:-$PWD/../shared/tools/playground-hr.yml}"
export BOT_CMD="env DATA_DIR=$DATA python -m bot"
export CHAT_CMD="${PLAYWRIGHT_PYTHON:-python} $PWD/scripts/playground_tour.py --url http://127.0.0.1:${PG_PORT:-56150} --out $OUT"
bash ../shared/tools/playground-session.sh -- --settle 1.5
