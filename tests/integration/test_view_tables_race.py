"""Services started together (serve, project, feed …, as compose and `make stack` do)
each create the view tables on the same fresh PostgreSQL schema; none may fail.
Without serialising the DDL, two sessions' CREATE TABLE IF NOT EXISTS collide on
pg_type's unique index."""

from __future__ import annotations

import multiprocessing as mp
from typing import Any

import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from projections.views import view_store_for


def _create_tables(url: str, start: Any) -> None:
    store = view_store_for(bootstrap(Settings(database_url=url)).recorder)
    start.wait(30)  # every process issues its DDL at the same moment
    store.create_tables()


@pytest.mark.postgres
def test_processes_creating_the_view_tables_at_once_all_succeed(postgres_url: str) -> None:
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(6)
    processes = [
        ctx.Process(target=_create_tables, args=(postgres_url, start)) for _ in range(6)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
    assert [p.exitcode for p in processes] == [0] * len(processes)
