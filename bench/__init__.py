"""``ledger bench``: the ledger measured against the machine's own limit, in one run.

``bench.workloads`` defines the data (deterministic by seed), ``bench.naive`` the
plain ``eventsourcing`` application a team would otherwise write, ``bench.run`` the
measurements and ``entrypoints.cli.bench`` the ``ledger bench`` sub-command.
"""
