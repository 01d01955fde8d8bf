"""A restore never brings an erased person back: ``ledger erase-person`` logs the
erasure outside the database (``LEDGER_ERASURE_LOG``), and ``ledger restore`` of a
backup taken before the erasure destroys the key again, drops its index row and
rotates the person secret; a lost person secret file is refused, never splits a
person, until ``ledger rotate-person-secret``. Both stores, through the ``ledger``
command line."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from api.problems import status_of_rejection
from entrypoints.bootstrap import bootstrap
from entrypoints.cli import main
from entrypoints.settings import Settings
from events.envelope import parse_submission
from ledger.audit.checkpoints import issue_checkpoint
from ledger.audit.keys import load_or_create_key, public_key_b64
from ledger.erasures import ErasureLog
from ledger.sealing import PersonSecrets, reveal
from tests.scenarios.support import at, event

FIRM = "91440300708461136T"
NUMBER = "11010519491231002X"
OTHER = "440301199001010013"


def link(number: str, ident: str) -> dict:
    data = {"role": "principal", "name": "张三", "id_number": number}
    return event("credit.person.linked", FIRM, at("2024-03-01"), data, "samr/440300", id=ident)


def test_a_restore_reapplies_the_erasure_log(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(tmp_path / "person.key"))
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "signing.key"))
    monkeypatch.setenv("LEDGER_ERASURE_LOG", str(tmp_path / "log" / "erasures.jsonl"))
    monkeypatch.setenv("LEDGER_DATABASE_URL", store_url)
    settings = Settings()
    ledger = bootstrap(settings)
    try:
        outcomes = ledger.submit(
            parse_submission(orjson.dumps([link(NUMBER, "l-1"), link(OTHER, "l-2")]))
        )
        assert [o.status for o in outcomes] == ["recorded", "recorded"]
        key = load_or_create_key(settings.signing_key_file)
        issue_checkpoint(ledger.recorder, key, settings.name, ledger.clock())
        erased_id = ledger.stream(FIRM)[0].data["id_number"]["key"]
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
    backup_file = tmp_path / "before-erasure.backup"
    assert main(["backup", str(backup_file)]) == 0
    secret_at_backup = PersonSecrets(settings.person_secret_file).current

    assert main(["erase-person", NUMBER]) == 0
    assert ErasureLog(settings.erasure_log).key_ids() == [erased_id]
    capsys.readouterr()

    public = public_key_b64(load_or_create_key(settings.signing_key_file))
    assert main(["restore", str(backup_file), "--force", "--public-key", public]) == 0
    err = capsys.readouterr().err
    assert "re-applied 1 logged person erasure(s)" in err and "OK:" in err

    ledger = bootstrap(settings)
    try:
        keys = ledger.keystore
        assert keys is not None
        row = keys.lookup(erased_id)
        assert row is not None and row.key is None  # destroyed again
        assert keys.find(NUMBER, include_erased=True) is None  # no index row
        assert secret_at_backup not in PersonSecrets(settings.person_secret_file).all()
        first, second = ledger.stream(FIRM)
        assert reveal(first.data, keys, "auditor")["id_number"] == "erased"
        assert reveal(second.data, keys, "auditor")["id_number"] == OTHER
        assert keys.find(OTHER) == second.data["id_number"]["key"]
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def test_a_replaced_person_secret_is_refused_until_rotated(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An index keyed with a secret the file no longer holds (a lost or wrongly
    restored secret file): a new link is refused as ``unavailable`` — never a second
    key for a known person — until ``ledger rotate-person-secret`` re-keys it."""
    secret_file = tmp_path / "person.key"
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(secret_file))
    monkeypatch.setenv("LEDGER_ERASURE_LOG", str(tmp_path / "erasures.jsonl"))
    monkeypatch.setenv("LEDGER_DATABASE_URL", store_url)
    events = tmp_path / "links.json"
    events.write_bytes(orjson.dumps([link(NUMBER, "l-1")]))
    assert main(["submit", str(events)]) == 0
    secret_file.unlink()  # the file is lost: a new random secret is created on use
    events.write_bytes(orjson.dumps([link(NUMBER, "l-2"), link(OTHER, "l-3")]))
    capsys.readouterr()
    assert main(["submit", str(events), "--json"]) == 1
    results = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["code"] for r in results] == ["unavailable", "unavailable"]
    assert "rotate-person-secret" in results[0]["message"]
    assert status_of_rejection(results[0]["code"]) == 503  # the API answers: retry later

    assert main(["rotate-person-secret"]) == 0
    assert main(["submit", str(events)]) == 0
    ledger = bootstrap(Settings())
    try:
        first, second, third = ledger.stream(FIRM)
        assert first.data["id_number"]["key"] == second.data["id_number"]["key"]  # one person
        assert third.data["id_number"]["key"] != first.data["id_number"]["key"]
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def test_an_unwritable_person_secret_is_a_clear_error_after_the_key_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A read-only secret (e.g. a Docker secret mount): the erasure is logged and the
    key destroyed, then a one-line error says how to finish the rotation (exit 1)."""
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(tmp_path / "person.key"))
    monkeypatch.setenv("LEDGER_ERASURE_LOG", str(tmp_path / "erasures.jsonl"))
    monkeypatch.setenv("LEDGER_DATABASE_URL", f"sqlite:///{tmp_path / 'l.db'}")
    events = tmp_path / "links.json"
    events.write_bytes(orjson.dumps([link(NUMBER, "l-1")]))
    assert main(["submit", str(events)]) == 0

    def read_only(self: PersonSecrets) -> bytes:
        raise PermissionError(13, "Read-only file system", str(self.path))

    monkeypatch.setattr(PersonSecrets, "begin_rotation", read_only)
    capsys.readouterr()
    assert main(["erase-person", NUMBER]) == 1
    err = capsys.readouterr().err
    assert "the key was destroyed and the erasure logged" in err
    assert "rotate-person-secret" in err and "Traceback" not in err
    assert len(ErasureLog(tmp_path / "erasures.jsonl").key_ids()) == 1
