"""The composition root: builds the store, clock and services once, from settings.

The CLI, the API and the ingester all start here; tests build the same graph
with their own settings or clock. Nothing else reads the environment.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from eventsourcing.persistence import OperationalError, ProgrammingError
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg_pool import PoolTimeout

from entrypoints import rule_files
from entrypoints.settings import Settings
from events.dates import use_date_range
from ledger.app import Ledger, system_clock_us
from ledger.audit.checkpoint_log import CheckpointLog
from ledger.audit.verifications import create_verifications_table
from ledger.personal import open_keystore
from ledger.recorders import LedgerSQL, PostgresLedgerRecorder, SQLiteLedgerRecorder


class ConfigurationError(ValueError):
    """A setting cannot be used; the message says which and why."""


def open_recorder(url: str, *, pool_size: int = 4, lock_timeout_s: int = 30) -> LedgerSQL:
    """The recorder for ``LEDGER_DATABASE_URL``, with its tables created.

    ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or
    ``sqlite:///:memory:``; ``postgresql://user:password@host:port/dbname[?schema=name]``.
    """
    parsed = urlparse(url)
    recorder: LedgerSQL
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
        if not path:
            raise ConfigurationError(f"LEDGER_DATABASE_URL {url!r} names no SQLite file")
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise ConfigurationError(
                    f"LEDGER_DATABASE_URL {url!r}: cannot create the folder of the SQLite file "
                    f"({e.strerror})"
                ) from e
        else:
            path = "file:ledger?mode=memory&cache=shared"
        recorder = SQLiteLedgerRecorder(
            SQLiteDatastore(path, lock_timeout=lock_timeout_s, pool_size=pool_size)
        )
    elif parsed.scheme in ("postgresql", "postgres"):
        options = parse_qs(parsed.query)
        recorder = PostgresLedgerRecorder(
            PostgresDatastore(
                dbname=unquote(parsed.path.lstrip("/")) or "postgres",
                host=parsed.hostname or "127.0.0.1",
                port=parsed.port or 5432,
                user=unquote(parsed.username or "postgres"),
                password=unquote(parsed.password or ""),
                pool_size=pool_size,
                max_overflow=pool_size * 2,
                lock_timeout=lock_timeout_s,
                schema=options.get("schema", ["public"])[0],
            )
        )
    else:
        raise ConfigurationError(
            f"LEDGER_DATABASE_URL {url!r}: the scheme must be sqlite or postgresql"
        )
    _create_tables(recorder)
    return recorder


def _create_tables(recorder: LedgerSQL) -> None:
    # Several processes starting at once may race on CREATE … IF NOT EXISTS.
    for attempt in range(5):
        try:
            recorder.create_table()  # type: ignore[attr-defined]
            create_verifications_table(recorder)
            return
        except (OperationalError, ProgrammingError, Exception) as e:
            if isinstance(e.__cause__, PoolTimeout):  # unreachable: racing is not the cause
                raise ConfigurationError(f"cannot connect to the database: {e}") from e
            if attempt == 4:
                raise
            time.sleep(0.2 * (attempt + 1))


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
        keystore=open_keystore(recorder, settings.person_secret_file),
        cache_size=settings.cache_subjects,
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
