"""``python -m bench``: ``ledger bench`` (same arguments, same process set-up), found by
name at run time (:mod:`bench.composition`)."""

import sys

from bench.run import main

sys.exit(main(sys.argv[1:]))
