"""docker/compose.yaml names every service the ops issue asks for, each with a
health check, every ledger service runs a command the CLI really has, and a real
Compose implementation (Docker Compose v2, put in .venv/bin by tools/ensure-compose.sh,
which `make test` runs) accepts the file and normalises it to the same services.
The image carries the PostgreSQL 15 client tools that `ledger backup` runs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from entrypoints.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker" / "compose.yaml"
COMPOSE_BIN = ROOT / ".venv" / "bin" / "docker-compose"
REQUIRED = {"postgres", "kafka", "serve", "ingest", "project", "tick", "checkpoint", "verify"}
LEDGER_IMAGE = "credit-ledger:latest"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def compose_config(scratch: Path, *options: str) -> dict[str, Any]:
    """``docker-compose [options] config`` of the file as the README deploys it: beside it a
    ``.env`` copied from ``.env.example`` (``--env-file`` and the services' ``env_file``),
    in a scratch copy of docker/ so the work tree is not touched. Fails, never skips,
    when the implementation is missing."""
    if not os.access(COMPOSE_BIN, os.X_OK):
        pytest.fail(
            f"{COMPOSE_BIN.relative_to(ROOT)} is missing: run `bash tools/ensure-compose.sh` "
            "(`make test` does)",
            pytrace=False,
        )
    docker = scratch / "docker"
    docker.mkdir()
    shutil.copy(COMPOSE, docker / "compose.yaml")
    shutil.copy(COMPOSE.parent / ".env.example", docker / ".env")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(docker.parent)}
    result = subprocess.run(
        [
            str(COMPOSE_BIN),
            "-f",
            str(docker / "compose.yaml"),
            "--env-file",
            str(docker / ".env"),
            *options,
            "config",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    assert "warn" not in result.stderr.lower(), result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@pytest.fixture(scope="module")
def normalised(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The file normalised without profiles (:func:`compose_config`)."""
    return compose_config(tmp_path_factory.mktemp("compose"))


def test_every_required_service_is_there_with_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= REQUIRED
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"


def test_a_compose_implementation_accepts_the_file(normalised: dict[str, Any]) -> None:
    services = normalised["services"]
    assert set(services) >= REQUIRED, sorted(REQUIRED - set(services))
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
    for name, service in services.items():
        if service.get("image") != LEDGER_IMAGE:
            continue
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert service["depends_on"]["kafka"]["condition"] == "service_healthy", name
        assert {s["source"] for s in service["secrets"]} == {"ledger_signing_key"}, name
        # the person secret is rotated at every erasure: a shared, writable volume
        mounts = {(v["source"], v["target"]) for v in service.get("volumes", [])}
        assert ("personal", "/var/lib/ledger-person") in mounts, name
        environment = service["environment"]
        assert environment["LEDGER_PERSON_SECRET_FILE"].startswith("/var/lib/ledger-person/")
        assert environment["LEDGER_ERASURE_LOG"].startswith("/var/lib/ledger-person/")
        url = service["environment"]["LEDGER_DATABASE_URL"]
        assert url == "postgresql://ledger:change-me@postgres:5432/ledger", name
    assert services["verify"]["command"] == ["verify", "--every", "86400"]
    assert set(normalised["secrets"]) == {"ledger_signing_key"}


def test_each_ledger_service_command_exists_in_the_cli(compose: dict[str, Any]) -> None:
    parser = build_parser()
    for name, service in compose["services"].items():
        if service.get("image") != LEDGER_IMAGE:
            continue
        if "entrypoint" in service:  # a shell script around ledger (the backup schedule)
            line = re.sub(r"\$\$\([^)]*\)", "NOW", " ".join(service["command"]))
            command = re.search(r"\bledger ([^&;]+)", line)
            assert command, f"{name}: no ledger command in {line!r}"
            args = parser.parse_args(command.group(1).split())
            assert callable(getattr(args, "handler", None)), f"{name}: {line}"
            continue
        args = parser.parse_args(service["command"])  # exits (SystemExit) on an unknown command
        assert callable(getattr(args, "handler", None)), f"{name}: {service['command']}"


def test_the_image_entry_point_is_the_ledger_command() -> None:
    dockerfile = (COMPOSE.parent / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["ledger"]' in dockerfile
    assert "USER ledger" in dockerfile


def test_the_image_carries_the_postgresql_15_client_tools() -> None:
    """``ledger backup`` runs pg_dump inside the image: the runtime stage installs
    bookworm's postgresql-client (15, the server's major version), without recommended
    packages, and leaves no apt lists behind, before it drops root."""
    dockerfile = (COMPOSE.parent / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[1:]
    runtime = stages[-1]
    assert runtime.startswith("python:3.11-slim-bookworm")
    instructions = re.sub(r"\\\n\s*", " ", runtime).splitlines()  # continuations joined
    (run,) = [i for i in instructions if i.startswith("RUN ") and "postgresql-client" in i]
    assert run.startswith("RUN apt-get update ")
    assert re.search(r"apt-get install -y --no-install-recommends postgresql-client\b", run)
    assert "rm -rf /var/lib/apt/lists/*" in run
    assert runtime.index("postgresql-client") < runtime.index("USER ledger")


def test_the_federation_profile_has_two_regions_and_the_national_view(
    tmp_path: Path,
) -> None:
    """``--profile federation``: two regional ledgers, each with its own PostgreSQL, key,
    origin and topics, and the national view consuming both (README "Scaling out")."""
    services = compose_config(tmp_path, "--profile", "federation")["services"]
    regions = {"jx": "360000", "tj": "120000"}
    for prefix, code in regions.items():
        for role in ("postgres", "serve", "ingest", "feed", "checkpoint"):
            assert f"{prefix}-{role}" in services, f"{prefix}-{role}"
        feed = services[f"{prefix}-feed"]
        environment = feed["environment"]
        assert environment["LEDGER_NAME"] == f"credit-ledger/{code}"
        assert environment["LEDGER_DATABASE_URL"].endswith(f"@{prefix}-postgres:5432/region_{code}")
        assert environment["LEDGER_KAFKA_FEED_TOPIC"] == f"credit.disclosure.changes.{code}"
        assert environment["LEDGER_KAFKA_CHECKPOINT_TOPIC"] == f"credit.checkpoints.{code}"
        assert {s["source"] for s in feed["secrets"]} == {f"{prefix}_signing_key"}
    national = services["national"]
    assert national["command"][:3] == ["national", "--config", "/etc/credit-ledger/regions.toml"]
    assert "national-postgres" in national["depends_on"]
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
    # the regions file the national service reads names the same topics
    regions_file = tomllib.loads((COMPOSE.parent / "federation" / "regions.toml").read_text())
    assert [r["feed_topic"] for r in regions_file["region"]] == [
        f"credit.disclosure.changes.{c}" for c in regions.values()
    ]


def test_the_federation_profile_has_a_witness_of_both_regions_scraped_by_prometheus(
    tmp_path: Path,
) -> None:
    """``--profile federation`` has a witness following both regions (the regions file's
    base URLs and keys), serving cosignatures and /metrics on the port the regions'
    LEDGER_WITNESSES and Prometheus name; Prometheus finds the profile's services by DNS,
    so a stack started without the profile has no target of theirs to be down."""
    services = compose_config(tmp_path, "--profile", "federation")["services"]
    witness = services["witness"]
    args = build_parser().parse_args(witness["command"])
    assert args.handler.__name__ == "cmd_witness"
    assert args.regions == "/etc/credit-ledger/regions.toml" and args.every and args.serve
    assert args.host == "0.0.0.0"
    mounts = {(v["source"].rsplit("/", 1)[-1], v["target"]) for v in witness["volumes"]}
    assert ("federation", "/etc/credit-ledger") in mounts
    assert any(target == "/var/lib/ledger" for _, target in mounts)  # state kept (named)
    assert args.state.startswith("/var/lib/ledger/")
    assert witness["environment"]["LEDGER_HEARTBEAT_FILE"]
    assert witness["healthcheck"]["test"][:3] == ["CMD", "ledger", "healthcheck"]
    for prefix in ("jx", "tj"):
        for role in ("serve", "ingest", "feed", "checkpoint"):
            environment = services[f"{prefix}-{role}"]["environment"]
            assert environment["LEDGER_WITNESSES"] == f"http://witness:{args.serve}", prefix
        assert f"{prefix}-serve" in witness["depends_on"]
    regions_file = tomllib.loads((COMPOSE.parent / "federation" / "regions.toml").read_text())
    assert {r["base_url"] for r in regions_file["region"]} == {
        "http://jx-serve:8000",
        "http://tj-serve:8000",
    }

    prometheus = yaml.safe_load((COMPOSE.parent / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    national_port = int(
        services["national"]["command"][services["national"]["command"].index("--port") + 1]
    )
    for job, name, port in (
        ("ledger-witness", "witness", args.serve),
        ("ledger-national", "national", national_port),
    ):
        assert "static_configs" not in jobs[job], job
        (sd,) = jobs[job]["dns_sd_configs"]
        assert sd["names"] == [name] and sd["port"] == port, job
    # no job names a profile's service statically: it would be down without the profile
    profiled = {n for n, s in services.items() if s.get("profiles")}
    for job in jobs.values():
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                assert target.split(":")[0] not in profiled, (job["job_name"], target)
