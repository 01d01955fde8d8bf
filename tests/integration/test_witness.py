"""The witness (issue 22, item 3): regional ledgers served over HTTP (the FastAPI app under
uvicorn on a free port), ``ledger witness --once`` following them.

* a growing log: every checkpoint is cosigned, the cosignatures verify under the witness's
  key and are served by ``--serve``'s endpoint;
* a rewritten history (another store under the same origin and key, one record changed,
  its checkpoint signed): same size another root, then a larger size with no valid
  consistency proof: refused, exit 1, ``fork <origin>``, evidence kept and re-checked;
* a truncated log (the same origin and key, the last records missing): refused likewise.
"""

from __future__ import annotations

import base64
import contextlib
import random
import re
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from entrypoints.bootstrap import bootstrap, checkpoint_log
from entrypoints.cli import main
from entrypoints.settings import Settings
from federation.witness import LogSpec, Witness, check_evidence
from federation.witness_http import WitnessServer
from federation.witness_state import WitnessState
from ledger.app import Ledger
from ledger.audit.checkpoints import Checkpoint, issue_checkpoint
from ledger.audit.cosignatures import verify_cosignature, witnessed_by
from ledger.audit.keys import load_or_create_key, public_key_b64, public_key_bytes
from tests.e2e.apphelpers import serve
from tests.integration.audit_support import random_events, subject_codes, submit
from tests.integration.kafka_broker import (
    Broker,
    kafka_broker,  # noqa: F401  (the fixture)
)

ORIGIN = "credit-ledger.jiangxi"
SUBJECTS = subject_codes(4, 22)


def _events(n: int, tag: str = "jx", seed: int = 22) -> list[dict[str, Any]]:
    return random_events(random.Random(seed), n, SUBJECTS, tag)


@dataclass
class Region:
    """One regional ledger: its settings, an open ledger to write with, its base URL."""

    settings: Settings
    ledger: Ledger
    url: str

    @property
    def key(self) -> str:
        return public_key_b64(load_or_create_key(self.settings.signing_key_file))

    @property
    def log(self) -> str:
        return f"{self.url}={self.key}"

    def checkpoint(self) -> Checkpoint:
        key = load_or_create_key(self.settings.signing_key_file)
        return issue_checkpoint(
            self.ledger.recorder,
            key,
            self.settings.name,
            self.ledger.clock(),
            log=checkpoint_log(self.settings),
        )


@contextlib.contextmanager
def region(
    tmp: Path, tag: str, database_url: str, events: list[dict[str, Any]]
) -> Iterator[Region]:
    """A ledger of origin :data:`ORIGIN` holding ``events`` with a first checkpoint, served.
    Every region of a test shares the signing key file ``tmp/origin.key``: a second region
    is the same origin's other history."""
    from entrypoints.wiring import build_app

    home = tmp / tag
    home.mkdir()
    settings = Settings(
        database_url=database_url,
        name=ORIGIN,
        signing_key_file=tmp / "origin.key",
        checkpoint_log=home / "checkpoints",
        person_secret_file=home / "person.key",
        tokens_file=home / "tokens.json",
        erasure_log=home / "erasures.jsonl",
    )
    ledger = bootstrap(settings)
    submit(ledger, events)
    app = build_app(settings, bootstrap, run_projections=False)
    try:
        with serve(app) as url:
            found = Region(settings, ledger, url)
            found.checkpoint()
            yield found
    finally:
        ledger.recorder.datastore.close()  # type: ignore[attr-defined]


def witness_once(state: Path, *logs: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = ["witness", "--state", str(state), "--name", "witness-test", "--once"]
    for log in logs:
        args += ["--log", log]
    capsys.readouterr()
    code = main(args)
    return code, capsys.readouterr().out


def _sqlite(tmp: Path, tag: str) -> str:
    return f"sqlite:///{tmp / (tag + '.db')}"


def test_the_witness_cosigns_every_checkpoint_of_a_growing_log(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "witness"
    with region(tmp_path, "jx", store_url, _events(30)) as jx:
        sizes = []
        for round_ in range(3):
            if round_:
                submit(jx.ledger, _events(7 * round_, tag=f"more{round_}", seed=round_))
                jx.checkpoint()
            sizes.append(jx.ledger.size())
            code, out = witness_once(state, jx.log, capsys=capsys)
            assert code == 0, out
            assert out.strip() == f"ok {ORIGIN} size={sizes[-1]}"
        code, out = witness_once(state, jx.log, capsys=capsys)  # nothing new: still ok
        assert (code, out.strip()) == (0, f"ok {ORIGIN} size={sizes[-1]}")

        witness_key = load_or_create_key(state / "witness.key")
        held = WitnessState(state)
        cosigned = held.cosignatures(ORIGIN)
        assert [c["size"] for c in cosigned] == sizes[::-1]
        assert all(verify_cosignature(c, public_key_bytes(witness_key)) for c in cosigned)
        latest = orjson.loads(urllib.request.urlopen(f"{jx.url}/v1/checkpoints/latest").read())
        assert witnessed_by(cosigned, latest, [public_key_bytes(witness_key)])

        # the witness serves them; the ledger's fetch finds the one for its checkpoint
        from ledger.audit.cosignatures import fetch_cosignatures

        witness = Witness("witness-test", witness_key, held)
        server = WitnessServer(witness, "127.0.0.1", 0)
        server.start()
        try:
            found, problems = fetch_cosignatures([server.url], latest)
            metrics = urllib.request.urlopen(f"{server.url}/metrics").read().decode()
        finally:
            server.stop()
        assert problems == []
        assert [c["size"] for c in found] == [latest["size"]]
        assert "ledger_witness_last_check_timestamp_seconds" in metrics


def test_a_rewritten_history_is_refused_and_the_evidence_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "witness"
    events = _events(40)
    changed = [dict(e) for e in events]
    changed[17] = {**changed[17], "data": {**changed[17]["data"], "description": "改过的记录"}}
    changed[17]["type"] = "credit.registration.submitted"
    with region(tmp_path, "jx", _sqlite(tmp_path, "jx"), events) as jx:
        code, out = witness_once(state, jx.log, capsys=capsys)
        assert code == 0, out
        verified = jx.ledger.size()
    with region(tmp_path, "jx-rewritten", _sqlite(tmp_path, "rw"), changed) as rewritten:
        assert rewritten.key == jx.key and rewritten.ledger.size() == verified
        code, out = witness_once(state, rewritten.log, capsys=capsys)
        assert code == 1
        assert out.startswith(f"fork {ORIGIN} different-root")
        # it grows on: a larger size, but no proof extends what the witness verified
        submit(rewritten.ledger, _events(5, tag="after", seed=5))
        rewritten.checkpoint()
        code, out = witness_once(state, rewritten.log, capsys=capsys)
        assert code == 1
        assert out.startswith(f"fork {ORIGIN} inconsistent")
    # nothing was cosigned or stored from the rewritten history
    assert [c["size"] for c in WitnessState(state).cosignatures(ORIGIN)] == [verified]
    evidence = sorted((state / "evidence").glob("*.json"))
    kinds = sorted(orjson.loads(p.read_bytes())["kind"] for p in evidence)
    assert kinds == ["different-root", "inconsistent"]
    for path in evidence:
        shown, problems = check_evidence(orjson.loads(path.read_bytes()))
        assert problems == [] and shown, path
        capsys.readouterr()
        assert main(["witness", "--check-evidence", str(path)]) == 0
        assert capsys.readouterr().out.startswith(f"OK: {ORIGIN}")
    # a doctored evidence file does not verify
    doctored = orjson.loads(evidence[0].read_bytes())
    doctored["offered"]["root"] = doctored["stored"]["root"]
    assert check_evidence(doctored)[1]


def test_a_truncated_log_is_refused_and_the_evidence_verifies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "witness"
    events = _events(40)
    with region(tmp_path, "jx", _sqlite(tmp_path, "jx"), events) as jx:
        assert witness_once(state, jx.log, capsys=capsys)[0] == 0
    with region(tmp_path, "jx-cut", _sqlite(tmp_path, "cut"), events[:25]) as cut:
        code, out = witness_once(state, cut.log, capsys=capsys)
    assert code == 1
    assert out.startswith(f"fork {ORIGIN} smaller")
    (path,) = (state / "evidence").glob("*.json")
    shown, problems = check_evidence(orjson.loads(path.read_bytes()))
    assert problems == [] and "cut back" in shown[0]


def test_a_bad_signature_is_refused_and_an_unreachable_log_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "witness"
    with region(tmp_path, "jx", _sqlite(tmp_path, "jx"), _events(10)) as jx:
        other = base64.b64encode(bytes(range(32))).decode()
        code, out = witness_once(state, f"{jx.url}={other}", capsys=capsys)
        assert code == 1 and out.startswith(f"fork {ORIGIN} bad-signature")
        url = jx.url
    code, out = witness_once(state, f"{url}={jx.key}", capsys=capsys)
    assert code == 3 and out.startswith(f"error {url}")
    assert LogSpec.parse(f"{url}/={jx.key}").base_url == url


def _tool(name: str) -> Any:
    import importlib.util
    import sys

    from tests.integration.audit_support import ROOT

    sys.path.insert(0, str(ROOT / "tools"))
    spec = importlib.util.spec_from_file_location(
        f"{name}_for_witness_tests", ROOT / "tools" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundles_and_reports_carry_cosignatures_and_the_verifiers_count_k_of_n(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    verify_bundle, verify_report = _tool("verify_bundle"), _tool("verify_report")
    with contextlib.ExitStack() as stack:
        jx = stack.enter_context(region(tmp_path, "jx", _sqlite(tmp_path, "jx"), _events(30)))
        servers, keys = [], []
        for n, name in enumerate(("national", "tianjin", "idle")):
            state = WitnessState(tmp_path / f"witness-{name}")
            key = load_or_create_key(state.directory / "witness.key")
            witness = Witness(f"witness-{name}", key, state)
            if n < 2:  # the third witness never looked at this log
                (seen,) = witness.check_all([LogSpec.parse(jx.log)])
                assert seen.status == "ok"
            server = WitnessServer(witness, "127.0.0.1", 0)
            server.start()
            stack.callback(server.stop)
            servers.append(server.url)
            keys.append(public_key_b64(key))
        for name, value in {
            "DATABASE_URL": jx.settings.database_url,
            "NAME": ORIGIN,
            "SIGNING_KEY_FILE": jx.settings.signing_key_file,
            "CHECKPOINT_LOG": jx.settings.checkpoint_log,
            "PERSON_SECRET_FILE": jx.settings.person_secret_file,
            "WITNESSES": ",".join(servers),
        }.items():
            monkeypatch.setenv(f"LEDGER_{name}", str(value))
        subject = SUBJECTS[0]
        bundle_file, report_file = tmp_path / "bundle.json", tmp_path / "report.json"
        assert main(["audit-bundle", subject, "--output", str(bundle_file)]) == 0
        assert main(["report", subject, "--output", str(report_file)]) == 0
    bundle = orjson.loads(bundle_file.read_bytes())
    report = orjson.loads(report_file.read_bytes())
    assert sorted(c["witness"] for c in bundle["cosignatures"]) == [
        "witness-national",
        "witness-tianjin",
    ]
    assert len(report["cosignatures"]) == 2

    def check(tool: Any, path: Path, *witness_args: str) -> tuple[int, str]:
        capsys.readouterr()
        code = tool.main([str(path), "--public-key", jx.key, *witness_args])
        return code, capsys.readouterr().out

    national, tianjin, idle = (["--witness-key", k] for k in keys)
    for tool, path in ((verify_bundle, bundle_file), (verify_report, report_file)):
        assert check(tool, path)[0] == 0  # without witness keys: not checked
        code, out = check(tool, path, *national, *tianjin, "--witnesses", "2")
        assert code == 0, out
        assert re.search(r"cosigned by 2 of (the )?2 given witnesses", out), out
        code, out = check(tool, path, *national, *tianjin, *idle, "--witnesses", "2")
        assert code == 0, out
        code, out = check(tool, path, *national, *tianjin, *idle, "--witnesses", "3")
        assert code == 1 and "only 2 of the 3 given witnesses" in out
        assert check(tool, path, *idle)[0] == 1  # K defaults to 1
        assert check(tool, path, *national, "--witnesses", "2")[0] == 2  # K > n: usage
    # a cosignature altered, or of another tree, does not count
    forged = {**bundle, "cosignatures": [dict(c) for c in bundle["cosignatures"]]}
    forged["cosignatures"][0]["cosigned_us"] += 1
    forged["cosignatures"][1]["size"] -= 1
    witness_keys = [base64.b64decode(k) for k in keys]
    assert verify_bundle.verify(bundle, None, witness_keys=witness_keys, witnesses=2) == []
    assert verify_bundle.verify(forged, None, witness_keys=witness_keys, witnesses=1)
    assert witnessed_by(bundle["cosignatures"], bundle["checkpoint"], witness_keys) == set(
        witness_keys[:2]
    )


@pytest.mark.kafka
def test_cosignatures_are_published_to_kafka(
    tmp_path: Path,
    kafka_broker: Broker,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic = f"credit.cosignatures.{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topics({topic: 1})
    monkeypatch.setenv("LEDGER_KAFKA_BOOTSTRAP", kafka_broker.bootstrap)
    state = tmp_path / "witness"
    with region(tmp_path, "jx", _sqlite(tmp_path, "jx"), _events(10)) as jx:
        capsys.readouterr()
        code = main(["witness", "--state", str(state), "--topic", topic, "--once", "--log", jx.log])
        assert code == 0, capsys.readouterr()
    [message] = kafka_broker.read_all(topic, 1)
    assert message.key == ORIGIN.encode()
    assert orjson.loads(message.value) == WitnessState(state).cosignatures(ORIGIN)[0]


def test_the_bundle_and_report_routes_carry_cosignatures_when_witnesses_are_set(
    tmp_path: Path,
) -> None:
    """``GET /v1/subjects/{code}/audit-bundle`` and ``GET /v1/subjects/{code}/report`` of a
    ledger with ``LEDGER_WITNESSES`` carry, beside the signature, each witness's cosignature
    of the checkpoint they cite; without it they carry none."""
    from fastapi.testclient import TestClient

    from api.tokens import TokenStore
    from entrypoints.wiring import build_app

    subject = SUBJECTS[0]
    with contextlib.ExitStack() as stack:
        jx = stack.enter_context(region(tmp_path, "jx", _sqlite(tmp_path, "jx"), _events(30)))
        keys = []
        urls = []
        for name in ("national", "tianjin"):
            state = WitnessState(tmp_path / f"witness-{name}")
            key = load_or_create_key(state.directory / "witness.key")
            witness = Witness(f"witness-{name}", key, state)
            (seen,) = witness.check_all([LogSpec.parse(jx.log)])
            assert seen.status == "ok", seen.line
            server = WitnessServer(witness, "127.0.0.1", 0)
            server.start()
            stack.callback(server.stop)
            urls.append(server.url)
            keys.append(public_key_bytes(key))
        token = TokenStore(jx.settings.tokens_file).add("auditor", name="auditor-1")[0]
        auditor = {"Authorization": f"Bearer {token}"}
        answers: dict[str, dict[str, Any]] = {}
        for witnesses in (",".join(urls), None):
            settings = jx.settings.model_copy(update={"witnesses": witnesses})
            client = stack.enter_context(
                TestClient(build_app(settings, bootstrap, run_projections=False))
            )
            bundle = client.get(f"/v1/subjects/{subject}/audit-bundle", headers=auditor)
            report = client.get(f"/v1/subjects/{subject}/report")
            assert bundle.status_code == 200, bundle.text
            assert report.status_code == 200, report.text
            answers[f"bundle-{bool(witnesses)}"] = bundle.json()
            answers[f"report-{bool(witnesses)}"] = report.json()
    for kind in ("bundle", "report"):
        body = answers[f"{kind}-True"]
        cosigned = body["cosignatures"]
        assert sorted(c["witness"] for c in cosigned) == ["witness-national", "witness-tianjin"]
        assert all(any(verify_cosignature(c, k) for k in keys) for c in cosigned), kind
        assert "cosignatures" not in answers[f"{kind}-False"], kind
    bundle = answers["bundle-True"]
    assert witnessed_by(bundle["cosignatures"], bundle["checkpoint"], keys) == set(keys)
    verify_bundle = _tool("verify_bundle")
    assert verify_bundle.verify(bundle, None, witness_keys=keys, witnesses=2) == []
