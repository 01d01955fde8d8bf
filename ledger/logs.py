"""Logging of the long-running services (``serve``, ``ingest``, ``project``, ``tick``,
``feed``): plain text for people (``LEDGER_LOG_FORMAT=text``, the default) or one JSON
object per line for a log pipeline (``LEDGER_LOG_FORMAT=json``, what docker/compose.yaml
sets).

A JSON line has ``ts`` (RFC 3339, UTC, microseconds), ``level``, ``logger`` and ``msg``
(the formatted message), ``subject`` and ``event_id`` when the call passes them with
``extra={"subject": …, "event_id": …}``, and ``exc`` with the traceback of
``log.exception``.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

__all__ = ["EXTRA_KEYS", "JsonFormatter", "configure"]

EXTRA_KEYS = ("subject", "event_id")
"""Fields taken from ``extra=`` into the JSON line, when present."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record (module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in EXTRA_KEYS:
            value = record.__dict__.get(key)
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exc"] = record.exc_text
        return orjson.dumps(line, default=str).decode()


def configure(log_format: str = "text", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every log record to ``stream`` (standard error) as text or JSON lines at
    ``level``, replacing the root logger's handlers; Kafka's client logs only warnings."""
    if log_format not in ("text", "json"):
        raise ValueError(f"log format {log_format!r}: expected text or json")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.getLogger("kafka").setLevel(logging.WARNING)
