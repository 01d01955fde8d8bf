"""The national view: what the regional ledgers publish, gathered in one store and served.

* :mod:`.config`: the regions (origin, public key, topics, base URL) from a TOML or JSON file;
* :mod:`.store`: the national tables and the consumer's tracking, on SQLite or PostgreSQL;
* :mod:`.consumer`: one consumer group over every region's feed and checkpoint topics,
  exactly-once in effect (tracking written in the transaction that applies a batch);
* :mod:`.app`: the FastAPI app under ``/v1/national/``;
* :mod:`.cli`: ``ledger national``.
"""
