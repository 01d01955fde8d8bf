"""The composition root: builds the store, clock and services once, from settings.

The CLI, the API and the ingester all start here; tests build the same graph
with their own settings or clock. Nothing else reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from entrypoints import rule_files
from entrypoints.settings import Settings
from events.dates import use_date_range
from ledger.app import Ledger, system_clock_us
from ledger.audit.checkpoint_log import CheckpointLog
from ledger.store import ConfigurationError, open_store
from ledger.store.recorder import LedgerSQL


def open_recorder(url: str, *, pool_size: int = 4, lock_timeout_s: int = 30) -> LedgerSQL:
    """The recorder for ``LEDGER_DATABASE_URL``, its store's tables created
    (``ledger.store.open_store``)."""
    return open_store(url, pool_size=pool_size, lock_timeout_s=lock_timeout_s).recorder


KEY_FILES = (
    ("LEDGER_SIGNING_KEY_FILE", "signing_key_file"),
    ("LEDGER_PERSON_SECRET_FILE", "person_secret_file"),
)
"""The key files every service may need: (variable, settings field)."""


def check_key_files(settings: Settings) -> None:
    """Fail at start-up, naming the file, when a configured key file exists but this
    process cannot read it (e.g. a Docker secret that kept the host's mode 0600 and
    owner, read by the image's user, uid 10001). A missing file is not an error here:
    it is created on first use."""
    for variable, field in KEY_FILES:
        path = Path(getattr(settings, field))
        try:
            with path.open("rb") as key:
                key.read(1)
        except FileNotFoundError:
            continue
        except OSError as e:
            raise ConfigurationError(
                f"{variable} {path}: cannot read it ({e.strerror}); it must be a file "
                f"readable by the user this service runs as (uid {os.getuid()}), "
                'see README "Keys and secrets"'
            ) from None


def bootstrap(
    settings: Settings | None = None, *, clock: Callable[[], int] | None = None
) -> Ledger:
    """The ledger application wired from settings (defaults: the environment)."""
    settings = settings or Settings()
    use_date_range(settings.date_range)
    check_key_files(settings)
    try:
        rules = rule_files.rule_services(
            settings.calendar_dir, settings.rules_dir, settings.agencies_file
        )
    except (OSError, ValueError) as e:
        raise ConfigurationError(
            f"LEDGER_CALENDAR_DIR / LEDGER_RULES_DIR / LEDGER_AGENCIES_FILE: {e}"
        ) from e
    recorder = open_recorder(
        settings.database_url, pool_size=settings.pool_size, lock_timeout_s=settings.lock_timeout_s
    )
    return Ledger(
        recorder,
        clock=clock or system_clock_us,
        rules=rules,
        keystore=recorder.store.person_keys(settings.person_secret_file),
        cache_size=settings.cache_subjects,
        cache_records=settings.cache_records,
    )


def checkpoint_log(settings: Settings) -> CheckpointLog | None:
    """The checkpoint log ``settings`` name (:meth:`CheckpointLog.of`): the directory
    ``LEDGER_CHECKPOINT_LOG`` or its default for the database, and the Kafka topic when
    ``LEDGER_KAFKA_BOOTSTRAP`` is set; None for an in-memory store without a log."""
    return CheckpointLog.of(
        settings.checkpoint_log,
        settings.database_url,
        settings.kafka_bootstrap,
        settings.kafka_checkpoint_topic,
    )


def ledger_at(
    bootstrap: Callable[[Settings], Ledger], database_url: str, **settings: Any
) -> Ledger:
    """``bootstrap`` of the settings with ``database_url`` and the other ``settings``
    fields given (the rest from their defaults and the environment). The bench's writer
    processes receive it pickled: it lives here, not beside the ``bench`` command, so that
    unpickling it imports the composition root alone (not every command and its
    libraries: ~70 MiB more per writer)."""
    return bootstrap(Settings(database_url=database_url, **settings))
