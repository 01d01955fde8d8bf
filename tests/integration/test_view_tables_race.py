"""Services started together (serve, project, feed …, as compose and `make stack` do)
each create the ledger's and the view tables on the same fresh store; none may fail.
Without serialising the DDL, two PostgreSQL sessions' CREATE TABLE IF NOT EXISTS
collide on pg_type's unique index; the ledger's own tables and the view tables take
the same per-schema turn (``Store.serialise_schema_changes``)."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

from ledger.store import open_store


def _create_tables(url: str, start: Any) -> None:
    start.wait(30)  # every process issues its DDL at the same moment
    store = open_store(url, pool_size=1)  # the ledger's and the audit tables
    store.views()  # the view tables
    store.close()


def test_processes_creating_the_tables_at_once_all_succeed(store_url: str) -> None:
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(6)
    processes = [ctx.Process(target=_create_tables, args=(store_url, start)) for _ in range(6)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
    assert [p.exitcode for p in processes] == [0] * len(processes)
