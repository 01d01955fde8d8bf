"""``python -m bench``: the bench without the ``ledger`` command (same arguments)."""

import sys

from bench.run import main

sys.exit(main())
