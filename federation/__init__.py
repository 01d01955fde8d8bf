"""Federation (issue 22): regional ledgers joined by Kafka, a national view
(:mod:`federation.national`) and witnesses (:mod:`federation.witness`). May import events,
commands, ledger and projections; nothing below imports it."""
