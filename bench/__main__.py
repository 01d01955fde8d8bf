"""``python -m bench``: ``ledger bench`` (same arguments, same process set-up)."""

import sys

from entrypoints.cli import main

sys.exit(main(["bench", *sys.argv[1:]]))
