"""The decisive test of issue 16 item 3: after an erasure, an attacker holding EVERY
secret the server holds — the person secret file, the signing key, the erasure log
and the whole database (records, person keys, index) — searches the masked space
of the erased identity number and does not find it. Both stores; for a person
recorded with a random key id and for one of an older ledger (key id = HMAC of the
number under the person secret).

The public mask is ``11****************``: it leaves open every region code of the
province, every birth date and every sequence number (the check character follows
from the rest). The search fixes what the test may legitimately fix to stay
tractable — the county (``110105``) and the birth year (1949) — and tries every
remaining candidate: 365 birth dates × 1,000 sequence numbers = 365,000 numbers,
the true one among them. The same search run BEFORE the erasure finds the number
(so the search is an effective one); after it, the full candidate set yields no
match, no ciphertext opens to it, and it appears nowhere in clear."""

from __future__ import annotations

import argparse
import contextlib
import functools
import hmac
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import orjson

from demo import id_number_check
from entrypoints.bootstrap import bootstrap
from entrypoints.cli.persons import register
from entrypoints.settings import Settings
from events.envelope import parse_submission
from ledger.app import Ledger
from ledger.audit.checkpoints import issue_checkpoint
from ledger.audit.keys import load_or_create_key, public_key_b64
from ledger.audit.verify import verify_store
from ledger.erasures import ErasureLog
from ledger.sealing import PersonSecrets, _decrypt, legacy_key_id, mask
from ledger.store import describe
from ledger.store.tables import PERSON_INDEX_TABLE, PERSON_KEYS_TABLE
from tests.scenarios.support import at, event

FIRM = "91440300708461136T"
COUNTY, YEAR = "110105", 1949
NUMBER = COUNTY + "19491231002" + id_number_check(COUNTY + "19491231002")
OTHER = "440301199001010013"


@functools.cache
def candidates() -> tuple[str, ...]:
    """Every identity number of the county and year consistent with the mask."""
    found = []
    day = date(YEAR, 1, 1)
    while day.year == YEAR:
        stem = COUNTY + day.strftime("%Y%m%d")
        for sequence in range(1000):
            first17 = f"{stem}{sequence:03d}"
            found.append(first17 + id_number_check(first17))
        day += timedelta(days=1)
    return tuple(found)


def settings_of(store_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=store_url,
        person_secret_file=tmp_path / "person.key",
        signing_key_file=tmp_path / "signing.key",
        erasure_log=tmp_path / "erasures.jsonl",
    )


def database_contents(ledger: Ledger) -> list[Any]:
    """Every row of every table of the ledger's schema or file (what a stolen
    database holds; PostgreSQL's dead row versions are VACUUMed at erasure)."""
    recorder: Any = ledger.recorder
    schema = getattr(recorder.datastore, "schema", None)
    with recorder.store.transaction() as cursor:
        if schema:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
            tables = [f'"{schema}"."{r[0]}"' for r in cursor.fetchall()]
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = [f'"{r[0]}"' for r in cursor.fetchall()]
        rows: list[Any] = []
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")
            rows.extend(tuple(r) for r in cursor.fetchall())
    return rows


def strings_in(rows: list[Any]) -> set[str]:
    """Every string and every string inside JSON, bytes as hex, of ``rows``."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, bytes | bytearray | memoryview):
            raw = bytes(value)
            found.add(raw.hex())
            try:
                walk(orjson.loads(raw))
            except orjson.JSONDecodeError:
                found.add(raw.decode("utf-8", "replace"))
        elif isinstance(value, str):
            found.add(value)
            if value[:1] in "{[":
                with contextlib.suppress(orjson.JSONDecodeError):
                    walk(orjson.loads(value))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(rows)
    return found


def live_keys(ledger: Ledger) -> list[tuple[str, bytes]]:
    with ledger.recorder.store.transaction() as cursor:
        cursor.execute(f"SELECT person_key_id, key FROM {ledger.recorder.store.table(PERSON_KEYS_TABLE)}")
        return [(str(k), bytes(v)) for k, v in cursor.fetchall() if v is not None]


def attack(ledger: Ledger, settings: Settings) -> dict[str, set[str]]:
    """What an attacker with every secret of the server recovers: ``search`` — the
    candidates whose keyed hash (index lookup or key id, under every secret held)
    occurs in the stolen data; ``keys`` — every plaintext the stolen person keys
    open; ``clear`` — the numbers found in clear."""
    held = [*PersonSecrets(settings.person_secret_file).all()]
    held.append(load_or_create_key(settings.signing_key_file).private_bytes_raw())
    rows = database_contents(ledger)
    if settings.erasure_log.exists():
        rows.append(settings.erasure_log.read_text())
    stolen = strings_in(rows)
    clear = {n for n in (NUMBER, OTHER) if any(n in text.upper() for text in stolen)}
    search = set()
    for secret in held:
        for number in candidates():
            normalised = number.encode()
            digest = hmac.digest(secret, normalised, "sha256").hex()
            lookup = hmac.digest(secret, b"person-index:" + normalised, "sha256").hex()
            if "pk-" + digest[:32] in stolen or lookup in stolen:
                search.add(number)
    sealed = [
        value
        for r in ledger.stream(FIRM)
        for value in (r.data.get("id_number"), (r.data.get("changes") or {}).get("id_number"))
        if isinstance(value, dict)
    ]
    opened = set()
    for key_id, key in live_keys(ledger):
        for value in sealed:
            with contextlib.suppress(Exception):
                opened.add(_decrypt(key, key_id, value["enc"]))
    return {"search": search, "keys": opened, "clear": clear}


def erase(settings: Settings, number: str) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(), bootstrap)
    args = parser.parse_args(["erase-person", number])
    assert args.handler(args, settings) == 0


def link(number: str, ident: str, day: str) -> dict:
    data = {"role": "legal-representative", "name": "张三", "id_number": number}
    return event("credit.person.linked", FIRM, at(day), data, "samr/440300", id=ident)


def checkpoint_then_verify(ledger: Ledger, settings: Settings) -> None:
    key = load_or_create_key(settings.signing_key_file)
    issue_checkpoint(ledger.recorder, key, settings.name, ledger.clock())
    report = verify_store(ledger.recorder, public_key=key.public_key().public_bytes_raw())
    assert report.ok, report.failure
    assert public_key_b64(key)


def sqlite_file_bytes(store_url: str) -> bytes:
    address = describe(store_url)
    assert address.kind == "sqlite" and address.path is not None
    path = address.path
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_an_erased_number_is_not_found_by_a_search_of_the_masked_space(
    store_url: str, tmp_path: Path
) -> None:
    settings = settings_of(store_url, tmp_path)
    ledger = bootstrap(settings)
    try:
        outcomes = ledger.submit(
            parse_submission(
                orjson.dumps([link(NUMBER, "l-1", "2024-03-01"), link(OTHER, "l-2", "2024-03-02")])
            )
        )
        assert [o.status for o in outcomes] == ["recorded", "recorded"]
        assert mask(NUMBER) == "11****************"
        assert NUMBER in set(candidates())
        checkpoint_then_verify(ledger, settings)
        erased_key = dict(live_keys(ledger))[ledger.stream(FIRM)[0].data["id_number"]["key"]]

        before = attack(ledger, settings)  # the search works: it finds the number
        assert before == {"search": {NUMBER}, "keys": {NUMBER, OTHER}, "clear": set()}

        erase(settings, NUMBER)
        after = attack(ledger, settings)  # the full candidate set: no match
        assert after == {"search": set(), "keys": {OTHER}, "clear": set()}
        assert ledger.keystore is not None and ledger.keystore.find(OTHER) is not None
        checkpoint_then_verify(ledger, settings)  # records, chain and proofs unchanged
        if describe(store_url).kind == "sqlite":
            raw = sqlite_file_bytes(store_url)
            assert NUMBER.encode() not in raw and erased_key not in raw
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def test_a_person_of_an_older_ledger_is_unlinked_too(store_url: str, tmp_path: Path) -> None:
    """Key ids derived as HMAC(person secret, number): erasure indexes the others
    from their records, rotates the secret and destroys the one that derived them."""
    settings = settings_of(store_url, tmp_path)
    ledger = bootstrap(settings)
    try:
        secret = PersonSecrets(settings.person_secret_file).current
        store = ledger.recorder.store
        with store.transaction() as cursor:
            for number in (NUMBER, OTHER):  # the keys an older ledger created
                cursor.execute(
                    store.sql(
                        f"INSERT INTO {store.table(PERSON_KEYS_TABLE)} "
                        "(person_key_id, key, created_us, erased_us) VALUES (%s, %s, 1, NULL)"
                    ),
                    (legacy_key_id(secret, number), os.urandom(32)),
                )
        older = [link(NUMBER, "l-1", "2024-03-01"), link(OTHER, "l-2", "2024-03-02")]
        outcomes = ledger.submit(parse_submission(orjson.dumps(older)))
        assert [o.status for o in outcomes] == ["recorded", "recorded"]
        recorded = [r.data["id_number"]["key"] for r in ledger.stream(FIRM)]
        assert recorded == [legacy_key_id(secret, NUMBER), legacy_key_id(secret, OTHER)]
        with store.transaction() as cursor:  # an older ledger had no index
            cursor.execute(f"DELETE FROM {store.table(PERSON_INDEX_TABLE)}")
        assert ledger.keystore is not None and len(ledger.keystore.unindexed()) == 2
        checkpoint_then_verify(ledger, settings)
        before = attack(ledger, settings)  # the key id derivation finds it
        assert before == {"search": {NUMBER}, "keys": {NUMBER, OTHER}, "clear": set()}

        erase(settings, NUMBER)
        assert secret not in PersonSecrets(settings.person_secret_file).all()
        assert attack(ledger, settings) == {"search": set(), "keys": {OTHER}, "clear": set()}
        assert ErasureLog(settings.erasure_log).key_ids() == [legacy_key_id(secret, NUMBER)]
        # the other older person is still found by number, under their recorded key id
        assert ledger.keystore is not None
        assert ledger.keystore.find(OTHER) == legacy_key_id(secret, OTHER)
        checkpoint_then_verify(ledger, settings)
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]
