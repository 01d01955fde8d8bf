"""Configuration: one settings object, read once at start-up from ``LEDGER_*``
environment variables (every field has a working default; README lists them)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from events.dates import DEFAULT_RANGE, DateRange


class Settings(BaseSettings):
    """Every knob of the ledger, with its default."""

    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore")

    database_url: str = Field(
        "sqlite:///./ledger.db",
        description="Which store: sqlite:///PATH (embedded) or postgresql://USER:PASS@HOST:PORT/DB",
    )
    name: str = Field("credit-ledger", description="The ledger's origin name in checkpoints")
    batch_size: int = Field(
        1000, ge=1, le=100_000, description="Events per append transaction on bulk paths"
    )
    cache_subjects: int = Field(100_000, ge=0, description="Subject decision states kept in memory")
    cache_records: int = Field(
        1_000_000,
        ge=0,
        description="Records folded into those states, at most (~1 KB of memory each): "
        "bounds a writer's memory as subjects' histories grow",
    )
    pool_size: int = Field(4, ge=1, description="PostgreSQL connections kept open")
    lock_timeout_s: int = Field(30, ge=1, description="How long a writer waits for the write lock")
    signing_key_file: Path = Field(Path("./signing.key"), description="Ed25519 key for checkpoints")
    checkpoint_log: Path | None = Field(
        None,
        description="Directory receiving every signed checkpoint, outside the database (default: "
        "checkpoints/ beside the SQLite file; ./checkpoints/DATABASE.SCHEMA/ for PostgreSQL)",
    )
    person_secret_file: Path = Field(
        Path("./person.key"),
        description="HMAC secret of the erasable index from identity numbers to person keys "
        "(created if missing; rotated at every erasure; keep it outside the database)",
    )
    erasure_log: Path = Field(
        Path("./erasures.jsonl"),
        description="Append-only log of person erasures, outside the database: re-applied "
        "after a restore",
    )
    calendar_dir: Path | None = Field(None, description="Extra official calendars (YYYY.json)")
    rules_dir: Path | None = Field(None, description="Extra or replacement rule sets (*.json)")
    agencies_file: Path | None = Field(
        None,
        description="Extra agency kinds, regions and hierarchy exceptions (commands/agencies.json "
        "format), merged over the shipped ones",
    )
    witnesses: str | None = Field(
        None,
        description="Witnesses' base URLs, comma-separated: bundles and reports carry their "
        "cosignatures of the checkpoint (`ledger witness --serve`)",
    )
    kafka_bootstrap: str | None = Field(
        None, description="Kafka bootstrap servers; turns on ingestion"
    )
    national_database_url: str | None = Field(
        None,
        description="`ledger national`: the national view's own database (default "
        "sqlite:///national.db)",
    )
    kafka_topic: str = Field("credit.events", description="Topic agencies publish events to")
    kafka_group: str = Field("credit-ledger", description="Consumer group of `ledger ingest`")
    kafka_dead_letter_topic: str = Field(
        "credit.events.rejected", description="Where rejected or unparseable messages go"
    )
    kafka_auto_offset_reset: str = Field(
        "earliest", description="Where a new consumer group starts (earliest: nothing skipped)"
    )
    kafka_max_poll_records: int = Field(2000, ge=1, description="Messages per ingest batch")
    kafka_max_poll_interval_ms: int = Field(300_000, ge=1000)
    kafka_session_timeout_ms: int = Field(30_000, ge=1000)
    kafka_heartbeat_interval_ms: int = Field(3000, ge=100)
    kafka_checkpoint_topic: str = Field(
        "credit.checkpoints", description="Where signed checkpoints are published (with Kafka)"
    )
    kafka_feed_topic: str = Field(
        "credit.disclosure.changes", description="The disclosure change feed for downstream systems"
    )
    log_level: str = Field("INFO", description="Logging level of long-running services")
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="`ledger ingest`: serve Prometheus /metrics on this port (serve has its own)",
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Logs of long-running services: text, or json (one object a line)"
    )
    tokens_file: Path = Field(Path("./tokens.json"), description="Hashed API bearer tokens")
    public_url: str = Field(
        "http://127.0.0.1:8000",
        description="Base URL of this ledger's API, printed on credit reports (verification link)",
    )
    heartbeat_file: Path | None = Field(
        None,
        description="Long-running workers refresh this file on every turn of their loop; "
        "`ledger healthcheck --max-age S` fails when it is older (container health checks)",
    )
    max_body_bytes: int = Field(
        32 * 1024 * 1024,
        ge=1024,
        description="`ledger serve`: the largest request body read (413 beyond it, before buffering)",
    )
    date_first: date = Field(
        DEFAULT_RANGE.first,
        description="The first day (China Standard Time) of every date and instant the ledger "
        "accepts: event times, date fields, as_of/known_at",
    )
    date_last: date = Field(
        DEFAULT_RANGE.last,
        description="The last day (China Standard Time) of every date and instant accepted",
    )

    @model_validator(mode="after")
    def _dates_ordered(self) -> Settings:
        self.date_range  # noqa: B018 - raises ValueError when the range is unusable
        return self

    @property
    def child_environment(self) -> dict[str, str]:
        """The environment a child process starts with (``pg_dump``, ``psql``, a
        ``ledger`` subcommand run by the bench): a copy of this process's own. The one
        place outside the fields above that reads ``os.environ``; modules that start
        processes take it as a value."""
        return dict(os.environ)

    @property
    def date_range(self) -> DateRange:
        """The accepted range of dates and instants (events.dates)."""
        return DateRange(self.date_first, self.date_last)
