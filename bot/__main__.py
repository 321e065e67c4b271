"""`python -m bot`: serve (default), chat, check-content, ask."""

import sys

from bot.cli import main

sys.exit(main())
