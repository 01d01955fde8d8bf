"""The JSON log formatter of ``ledger.logs``."""

from __future__ import annotations

import io
import logging
from datetime import datetime

import orjson
import pytest

from ledger import logs


def _record(**extra: object) -> logging.LogRecord:
    logger = logging.getLogger("services.ingest")
    record = logger.makeRecord(
        "services.ingest", logging.WARNING, __file__, 1, "rejected %s: %s", ("x", "why"), None
    )
    record.__dict__.update(extra)
    return record


def test_json_line_has_the_keys() -> None:
    line = orjson.loads(logs.JsonFormatter().format(_record()))
    assert set(line) == {"ts", "level", "logger", "msg"}
    assert line["level"] == "WARNING"
    assert line["logger"] == "services.ingest"
    assert line["msg"] == "rejected x: why"
    assert datetime.fromisoformat(line["ts"]).utcoffset() is not None


def test_subject_and_event_id_from_extra() -> None:
    line = orjson.loads(
        logs.JsonFormatter().format(
            _record(subject="91440300MA5XXXXXXX", event_id="e-1", other="ignored")
        )
    )
    assert line["subject"] == "91440300MA5XXXXXXX"
    assert line["event_id"] == "e-1"
    assert "other" not in line


def test_exception_and_unicode() -> None:
    try:
        raise ValueError("坏")
    except ValueError:
        import sys

        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "失败 %d", (1,), sys.exc_info()
        )
    line = orjson.loads(logs.JsonFormatter().format(record))
    assert line["msg"] == "失败 1"
    assert "ValueError: 坏" in line["exc"]


def test_configure_json_replaces_root_handlers() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    try:
        logs.configure("json", "info", stream=stream)
        logging.getLogger("ledger.test").info("hello", extra={"subject": "s", "event_id": "e"})
        line = orjson.loads(stream.getvalue().splitlines()[-1])
        assert line["msg"] == "hello" and line["subject"] == "s" and line["event_id"] == "e"
        with pytest.raises(ValueError):
            logs.configure("xml")
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])
