"""Control characters in ``data`` are refused on every path into the ledger: ``ledger
submit`` (both stores: nothing is written) and a Kafka message (the ingester's parser,
whose refusal becomes the dead letter's reason). The API's refusal is in
``test_api_door``; the rule itself in ``tests/unit/events/test_text_characters``."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.cli import main
from entrypoints.settings import Settings
from events.codes import complete_subject_code
from events.envelope import Refused
from services.ingest import parse_message

SUBJECT = complete_subject_code("91440300MA5FPXM0")


def _event(ident: str, description: str) -> dict[str, object]:
    return {
        "specversion": "1.0",
        "id": ident,
        "source": "samr/440300",
        "type": "credit.registration.submitted",
        "subject": SUBJECT,
        "time": "2025-03-01T10:00:00+08:00",
        "data": {"category": "certificate", "description": description},
    }


def test_ledger_submit_refuses_and_writes_nothing(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "events.jsonl"
    lines = [_event("ok-1", "ISO 9001\n第二行"), _event("nul-1", "ISO\x009001"),
             _event("c1-1", "ISO\x859001"), _event("nf-1", "ISO\uffff")]  # fmt: skip
    path.write_bytes(b"\n".join(orjson.dumps(e) for e in lines) + b"\n")
    argv = ["--database-url", store_url, "submit", str(path), "--json"]
    secret = tmp_path / "person.key"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LEDGER_PERSON_SECRET_FILE", str(secret))
        assert main(argv) == 1
    results = [orjson.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert [(r["id"], r["status"], r.get("code")) for r in results] == [
        ("ok-1", "recorded", None),
        ("nul-1", "rejected", "control-character"),
        ("c1-1", "rejected", "control-character"),
        ("nf-1", "rejected", "control-character"),
    ]
    ledger = bootstrap(Settings(database_url=store_url, person_secret_file=secret))
    try:
        assert ledger.size() == 1
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def test_a_kafka_message_with_a_nul_is_refused_with_the_reason() -> None:
    refused = parse_message(0, orjson.dumps(_event("k-1", "a\x00b")))
    assert isinstance(refused, Refused)
    assert refused.rejection.code == "control-character"
    assert refused.rejection.details["path"] == "data.description"
