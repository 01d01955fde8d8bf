"""Every CLI command on a refused state (an empty store, an unknown subject, bad dates,
bad settings, unusable key or rule files, a deleted checkpoint) answers with one clear
line and a non-zero exit status, never a traceback (issue 16, item 8), on both stores."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from entrypoints.bootstrap import bootstrap
from entrypoints.cli import main
from entrypoints.settings import Settings
from events.envelope import parse_submission
from tests.unit.events.samples import SAMPLES, STORY, SUBJECT

UNKNOWN = "91110000600037341L"
"""A valid code with no records."""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Key, token and secret files in a fresh folder (nothing exists yet)."""
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(tmp_path / "signing.key"))
    monkeypatch.setenv("LEDGER_PERSON_SECRET_FILE", str(tmp_path / "person.key"))
    monkeypatch.setenv("LEDGER_TOKENS_FILE", str(tmp_path / "tokens.json"))
    for name in ("LEDGER_KAFKA_BOOTSTRAP", "LEDGER_RULES_DIR", "LEDGER_CALENDAR_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def refused(
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    words: str,
    *,
    summary: bool = False,
) -> str:
    """Run ``ledger argv``: exit ``status``, one ``ledger: …`` line naming ``words``
    (``summary``: a command that ends with its one-line summary of figures instead)."""
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own usage errors
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == status, (argv, out, err)
    assert words in out + err, (argv, out, err)
    last = err.strip().splitlines()[-1]
    assert summary or last.startswith("ledger"), err
    assert "--traceback" not in last, f"only the last-resort handler caught it: {last}"
    return err


def test_reads_and_views_on_an_empty_store(
    store_url: str, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--database-url", store_url]
    for command in ("standing", "disclosure", "history"):
        refused(capsys, [*db, command, UNKNOWN], 1, f"no records of subject {UNKNOWN}")
        refused(capsys, [*db, command, "BAD"], 2, "subject-code-length")
    refused(capsys, [*db, "rebuild", "--subject", UNKNOWN], 1, "no records of subject")
    refused(capsys, [*db, "rebuild", "--subject", "nonsense"], 2, "subject-code")
    refused(capsys, [*db, "rebuild", "lists", "--subject", UNKNOWN], 2, "name no view")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("9999-12-31", "outside the dates the ledger accepts (1949-10-01 … 2199-12-31"),
        ("9999-12-31T23:59:59Z", "outside the dates"),
        ("0001-01-01T00:00:00+23:59", "outside the dates"),
        ("2026-13-01", "is not a date YYYY-MM-DD"),
        ("abc", "is not an RFC 3339 date-time"),
    ],
)
def test_bad_dates_exit_2_with_the_reason(
    store_url: str, env: Path, capsys: pytest.CaptureFixture[str], text: str, words: str
) -> None:
    db = ["--database-url", store_url]
    for command in ("standing", "disclosure", "history"):
        for option in ("--as-of", "--known-at"):
            err = refused(capsys, [*db, command, SUBJECT, option, text], 2, words)
            assert option in err
    refused(capsys, [*db, "lists", "focus", "--as-of", text], 2, words)
    refused(capsys, [*db, "tick", "--at", text], 2, words)


def test_audit_commands_on_an_empty_store(
    store_url: str, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = ["--database-url", store_url]
    refused(capsys, [*db, "audit-bundle", "BAD"], 2, "subject-code-length")
    refused(
        capsys, [*db, "audit-bundle", UNKNOWN, "--checkpoint", "5"], 2, "no checkpoint of size 5"
    )
    refused(capsys, [*db, "proof", "inclusion", "0"], 2, "is not in checkpoint 0")
    refused(capsys, [*db, "proof", "consistency", "1", "2"], 2, "no checkpoint of size 1")
    refused(capsys, [*db, "verify", "--public-key", "garbage"], 2, "--public-key")
    refused(capsys, [*db, "verify", "--workers", "0"], 2, "--workers")


def test_input_files_and_settings(
    store_url: str, env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = ["--database-url", store_url]
    refused(capsys, [*db, "submit", str(env / "missing.json")], 2, "cannot read")
    far = copy.deepcopy(SAMPLES["credit.commitment.made"])
    far["data"]["due"] = "9999-12-31"
    (env / "far.json").write_bytes(orjson.dumps(far))
    refused(capsys, [*db, "submit", str(env / "far.json")], 1, "date-out-of-range", summary=True)
    refused(capsys, [*db, "schema", "credit.nope"], 2, "unknown type")
    refused(capsys, [*db, "feed"], 2, "LEDGER_KAFKA_BOOTSTRAP")
    refused(capsys, [*db, "restore", str(env / "missing.bak")], 1, "no such backup file")
    refused(capsys, [*db, "token", "revoke", "nobody"], 2, "no token")
    refused(capsys, [*db, "spot-check"], 2, "--seed")

    (env / "bad.key").write_text("not a key\n")
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(env / "bad.key"))
    refused(capsys, [*db, "checkpoint"], 2, "signing key")
    refused(capsys, [*db, "audit-bundle", UNKNOWN], 2, "signing key")
    monkeypatch.setenv("LEDGER_SIGNING_KEY_FILE", str(env / "signing.key"))

    (env / "rules").mkdir()
    (env / "rules" / "broken.json").write_text("{")
    monkeypatch.setenv("LEDGER_RULES_DIR", str(env / "rules"))
    refused(capsys, [*db, "standing", SUBJECT], 2, "LEDGER_RULES_DIR")
    monkeypatch.delenv("LEDGER_RULES_DIR")

    monkeypatch.setenv("LEDGER_DATE_FIRST", "2300-01-01")
    refused(capsys, [*db, "standing", SUBJECT], 2, "the accepted date range 2300-01-01")
    monkeypatch.setenv("LEDGER_DATE_FIRST", "garbage")
    refused(capsys, [*db, "standing", SUBJECT], 2, "setting LEDGER_DATE_FIRST")
    monkeypatch.delenv("LEDGER_DATE_FIRST")
    monkeypatch.setenv("LEDGER_BATCH_SIZE", "0")
    refused(capsys, [*db, "submit", str(env / "far.json")], 2, "setting LEDGER_BATCH_SIZE")


def test_an_unusable_sqlite_path(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (env / "a-file").write_text("")
    url = f"sqlite:///{env / 'a-file' / 'ledger.db'}"
    refused(capsys, ["--database-url", url, "standing", SUBJECT], 2, "cannot create the folder")


def test_audit_bundle_after_the_only_checkpoint_was_deleted(
    store_url: str, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = bootstrap(Settings(database_url=store_url))
    outcomes = app.submit(parse_submission(orjson.dumps(STORY)))
    assert any(o.status == "recorded" for o in outcomes)  # the bundle needs a few records
    db = ["--database-url", store_url]
    assert main([*db, "checkpoint"]) == 0
    store = app.recorder.store.views()
    with store.transaction() as cursor:
        cursor.execute(f"DELETE FROM {store.table('ledger_checkpoints')}")
    app.recorder.datastore.close()  # type: ignore[attr-defined]
    capsys.readouterr()
    refused(capsys, [*db, "audit-bundle", SUBJECT], 1, "but not its checkpoint row (deleted?)")
    refused(capsys, [*db, "checkpoint"], 1, "nothing was signed")


def test_the_installed_command_prints_no_traceback(env: Path, tmp_path: Path) -> None:
    """The same through a real process (what an operator sees)."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    cases = [
        (["standing", UNKNOWN, "--as-of", "9999-12-31"], 2),
        (["rebuild", "--subject", UNKNOWN], 1),
        (["lists", "no-such-list"], 2),
    ]
    for argv, status in cases:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "from entrypoints.cli import main; raise SystemExit(main())",
                "--database-url",
                url,
                *argv,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == status, (argv, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith(("ledger", "usage"))


def test_an_unexpected_error_is_one_line_unless_asked(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last resort: a failure nobody foresaw is still one line (exit 1); ``--traceback``
    shows where it happened."""
    from entrypoints import bootstrap as composition

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(composition.rule_files, "rule_services", broken)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert main(["--database-url", url, "standing", SUBJECT]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "ledger: standing failed: RuntimeError: the disk is on fire "
        "(`ledger --traceback …` shows where)"
    )
    with pytest.raises(RuntimeError, match="on fire"):
        main(["--traceback", "--database-url", url, "standing", SUBJECT])
