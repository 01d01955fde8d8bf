"""Scenario: a responsible person (§十二) — linked to two subjects with the
identity number never stored in clear, the serious-dishonesty listing of one
extends to them, then the person is erased: the number is unreadable, while the
records, their hashes and the chain verify exactly as before."""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson

from entrypoints.bootstrap import bootstrap
from entrypoints.cli.persons import register
from entrypoints.settings import Settings
from events.envelope import parse_submission
from ledger import chain
from ledger.app import Ledger
from ledger.sealing import protect_items, reveal
from services.persons import linked_subjects, person_extensions
from tests.scenarios.support import BASIS, at, event, recorded

FIRM = "91440300708461136T"
SHOP = "91310000MA1FL8L96X"
NUMBER = "11010519491231002X"
NDRC = "ndrc/440300"


def link(subject: str, role: str, day: str, number: str = NUMBER) -> dict:
    return event(
        "credit.person.linked",
        subject,
        at(day),
        {"role": role, "name": "张三", "id_number": number},
        "samr/440300" if subject == FIRM else "samr/310000",
    )


def verify_chain(ledger: Ledger, subject: str) -> list[str]:
    """Recompute every record's hash from its stored fields; return the hashes."""
    prev = chain.GENESIS
    hashes = []
    for r in ledger.stream(subject):
        assert r.prev == prev
        recomputed = chain.record_hash(
            chain.record_bytes(
                subject=r.subject,
                seq=r.seq,
                position=r.position,
                id=r.id,
                source=r.source,
                type=r.type,
                time=r.time,
                recorded_us=r.recorded_us,
                data_canonical=chain.canonical(r.data),
                prev=r.prev,
            )
        )
        assert recomputed == r.hash, f"{subject} seq {r.seq} does not verify"
        hashes.append(r.hash)
        prev = r.hash
    return hashes


def test_a_person_erased_leaves_the_chain_verifiable(
    ledger: Ledger, store_url: str, tmp_path: Path
) -> None:
    secret_file = tmp_path / "person.key"
    keys = ledger.recorder.store.person_keys(secret_file)

    def submit_protected(*events: dict) -> list:
        # What Ledger.submit does once wired: protect, then decide and append.
        return ledger.submit(protect_items(parse_submission(orjson.dumps(list(events))), keys))

    outcomes = submit_protected(
        link(FIRM, "legal-representative", "2024-03-01"),
        link(SHOP, "actual-controller", "2024-04-01"),
    )
    assert [o.status for o in outcomes] == ["recorded", "recorded"]
    person = keys.key_id(NUMBER)
    for subject in (FIRM, SHOP):
        for r in ledger.stream(subject):
            assert NUMBER not in chain.canonical(r.data).decode()
            assert r.data["id_number"]["key"] == person
    assert linked_subjects(ledger, person) == {FIRM, SHOP}

    (fine,) = recorded(
        ledger,
        event(
            "credit.penalty.decided",
            FIRM,
            at("2024-06-03"),
            {
                "kinds": ["fine", "suspension"],
                "amount": "800000.00",
                "procedure": "ordinary",
                "severity": "serious",
                "sector": "food",
                **BASIS,
            },
            "samr/440300",
        ),
    )
    (proposal,) = recorded(
        ledger,
        event(
            "credit.list.proposed",
            FIRM,
            at("2024-06-10"),
            {"list": "serious-dishonesty", "finding": fine, "planned_end": "2027-06-09", **BASIS},
            NDRC,
        ),
    )
    (designation,) = recorded(
        ledger,
        event(
            "credit.list.designated", FIRM, at("2024-07-01"), {"proposal": proposal, **BASIS}, NDRC
        ),
    )
    extensions = person_extensions(ledger, person, ledger.clock())
    assert [(e.subject, e.kind, e.event, e.role) for e in extensions] == [
        (FIRM, "designation", designation, "legal-representative")
    ]

    stored = ledger.stream(FIRM)[0].data
    assert reveal(stored, keys, "auditor")["id_number"] == NUMBER
    assert reveal(stored, keys, "public")["id_number"] == "11****************"
    hashes_before = {s: verify_chain(ledger, s) for s in (FIRM, SHOP)}

    # ledger erase-person NUMBER (the command as the CLI will run it)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(), bootstrap)
    args = parser.parse_args(["erase-person", NUMBER, "--json"])
    settings = Settings(
        database_url=store_url,
        person_secret_file=secret_file,
        erasure_log=tmp_path / "erasures.jsonl",
    )
    assert args.handler(args, settings) == 0

    row = keys.lookup(person)
    assert row is not None and row.key is None and row.erased_us is not None
    for subject in (FIRM, SHOP):
        first = ledger.stream(subject)[0]
        assert reveal(first.data, keys, "auditor")["id_number"] == "erased"
    assert {s: verify_chain(ledger, s) for s in (FIRM, SHOP)} == hashes_before

    # the erasure holds: the index row is gone and the secret rotated; a new link of
    # the same number starts a fresh key
    assert keys.find(NUMBER, include_erased=True) is None
    (outcome,) = submit_protected(link(FIRM, "principal", "2025-01-02"))
    assert outcome.status == "recorded"
    fresh = ledger.stream(FIRM)[-1].data["id_number"]
    assert fresh["key"] != person and keys.find(NUMBER) == fresh["key"]
    assert reveal(ledger.stream(FIRM)[0].data, keys, "auditor")["id_number"] == "erased"
    # other persons are unaffected
    (other,) = submit_protected(link(FIRM, "principal", "2025-01-02", "440301199001010013"))
    assert other.status == "recorded"
    assert (
        reveal(ledger.stream(FIRM)[-1].data, keys, "handler")["id_number"] == "440301199001010013"
    )
