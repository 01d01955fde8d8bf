"""Shared set-up of the API tests: a ledger loaded with a small demo, tokens of
every role, and the app (in process, or served by uvicorn on a free loopback port).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI

import demo
from api.access_log import AccessLog
from api.app import create_app
from api.tokens import TokenStore
from entrypoints.bootstrap import bootstrap
from entrypoints.cli import demo_batches
from entrypoints.settings import Settings
from events.envelope import Envelope, Refused, parse_submission
from ledger.app import Ledger

AGENCY = "samr/440300"
OTHER_AGENCY = "tax/440300"
PLATFORM = "credit-platform/440300"
"""The objection handler's platform (a handler token acts only for its own)."""


@dataclass
class DemoApp:
    """A ledger with the demo loaded, the app over it and a token per role."""

    ledger: Ledger
    app: FastAPI
    events: list[demo.DemoEvent]
    tokens: dict[str, str]
    access_log: AccessLog
    tmp: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        """Authorization headers of ``role`` (none for ``public``)."""
        token = self.tokens.get(role)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def subjects(self) -> list[str]:
        return sorted({d.event["subject"] for d in self.events})

    def id_numbers(self) -> set[str]:
        """The identity numbers of the demo's responsible persons."""
        return {
            d.event["data"]["id_number"]
            for d in self.events
            if d.event["type"] == "credit.person.linked"
        }


def load_demo(ledger: Ledger, subjects: int) -> list[demo.DemoEvent]:
    """Record the demo the way ``ledger demo`` does (daily batches, demo clock)."""
    generated = demo.generate(subjects=subjects, rules=ledger.rule_services())
    items: list[Envelope | Refused] = list(
        parse_submission(orjson.dumps([d.event for d in generated]))
    )
    recorded_at = {id(item): d.recorded_us for item, d in zip(items, generated, strict=True)}
    for batch in demo_batches(items, generated, 1000):
        outcomes = ledger.submit(
            batch, now_us=max(recorded_at[id(i)] for i in batch), system=True
        )
        assert all(o.status != "rejected" for o in outcomes), [
            o for o in outcomes if o.status == "rejected"
        ][:3]
    return generated


def issue_checkpoint(ledger: Ledger, settings: Settings) -> None:
    """Sign a checkpoint of the ledger as it is (what `ledger checkpoint` does)."""
    from ledger.audit import checkpoints, keys

    key = keys.load_or_create_key(settings.signing_key_file)
    checkpoints.issue_checkpoint(ledger.recorder, key, settings.name, ledger.clock())


def build_demo_app(tmp: Path, database_url: str, subjects: int = 40) -> DemoApp:
    """Load the demo into ``database_url`` and build the app with a token per role."""
    settings = Settings(
        database_url=database_url,
        tokens_file=tmp / "tokens.json",
        signing_key_file=tmp / "signing.key",
        person_secret_file=tmp / "person.key",
    )
    ledger = bootstrap(settings)
    events = load_demo(ledger, subjects)
    issue_checkpoint(ledger, settings)
    store = TokenStore(settings.tokens_file)
    tokens = {
        "agency": store.add("agency", agency=AGENCY, name="samr-shenzhen")[0],
        "auditor": store.add("auditor", name="auditor-1")[0],
        "objection-handler": store.add("objection-handler", agency=PLATFORM, name="handler-1")[0],
    }
    log = AccessLog(tmp / "access-log.jsonl", ledger.clock)
    from projections.runner import ProjectionRunner
    from services.persons import keystore_of

    assert ledger.rules is not None
    runner = ProjectionRunner(ledger.recorder, ledger.rules)
    runner.catch_up()
    from ledger.audit.keys import load_or_create_key

    app = create_app(
        ledger,
        tokens=store,
        access_log=log,
        keystore=keystore_of(ledger, settings.person_secret_file),
        signing_key=load_or_create_key(settings.signing_key_file),
        origin=settings.name,
        runner=runner,
    )
    return DemoApp(ledger, app, events, tokens, log, tmp)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(app: FastAPI, port: int | None = None) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free loopback port; yields its URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
