"""Federation: regional ledgers joined by Kafka (issue 22).

A region is a ledger with its own origin name (``LEDGER_NAME``), signing key and store;
it publishes its disclosure changes and signed checkpoints. :mod:`federation.national`
gathers what the regions publish into a national view; :mod:`federation.witness` verifies
and cosigns the regions' checkpoints and keeps the evidence of forks. This package sits downstream of
``events``, ``commands``, ``ledger`` and ``projections`` and imports nothing else of the
project.
"""
