"""Building the app from settings: the API's corner of the composition root.

``build_app(settings)`` opens the ledger through ``entrypoints.bootstrap`` and hands
it, with the token store and the access log, to :func:`api.app.create_app`.
The access log lives beside the tokens file (``access-log.jsonl``) unless a
path is given.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from api.access_log import AccessLog
from api.app import create_app
from api.tokens import TokenStore
from entrypoints.bootstrap import checkpoint_log
from entrypoints.settings import Settings
from ledger.app import Ledger

__all__ = ["access_log_path", "build_app"]


def access_log_path(settings: Settings) -> Path:
    """Where personal-data reads are logged: beside the tokens file."""
    return settings.tokens_file.parent / "access-log.jsonl"


def build_app(
    settings: Settings,
    bootstrap: Callable[[Settings], Ledger],
    *,
    access_log: Path | None = None,
    run_projections: bool = True,
) -> FastAPI:
    """The app for ``settings`` (``bootstrap`` is ``entrypoints.bootstrap.bootstrap``).

    With ``run_projections`` the app keeps the materialised views current
    itself (a projection runner thread while it is served); turn it off when a
    separate ``ledger project --follow`` does."""
    from entrypoints.cli.report import issuer_for
    from ledger.audit.cosignatures import CosignatureSource
    from ledger.audit.keys import load_or_create_key
    from ledger.metrics import LedgerMetrics
    from projections.runner import ProjectionRunner
    from services.persons import keystore_of

    ledger = bootstrap(settings)
    assert ledger.rules is not None
    metrics = LedgerMetrics(known_agency=ledger.rules.agencies.known_source)
    ledger.observer = metrics.observe_submit
    runner = ProjectionRunner(ledger.recorder, ledger.rules) if run_projections else None
    return create_app(
        ledger,
        tokens=TokenStore(settings.tokens_file),
        access_log=AccessLog(access_log or access_log_path(settings), ledger.clock),
        keystore=keystore_of(ledger, settings.person_secret_file),
        signing_key=load_or_create_key(settings.signing_key_file),
        origin=settings.name,
        checkpoint_log=checkpoint_log(settings),
        runner=runner,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        extras={
            "report_issuer": issuer_for(ledger, settings),
            "cosignatures": CosignatureSource.of(settings.witnesses),
        },
    )
