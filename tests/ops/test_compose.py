"""docker/compose.yaml names every service the ops issue asks for, each with a
health check, and every ledger service runs a command the CLI really has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ledger.cli import build_parser

COMPOSE = Path(__file__).resolve().parents[2] / "docker" / "compose.yaml"
REQUIRED = {"postgres", "kafka", "serve", "ingest", "project", "tick"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_every_required_service_is_there_with_a_health_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= REQUIRED
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"


def test_each_ledger_service_command_exists_in_the_cli(compose: dict[str, Any]) -> None:
    parser = build_parser()
    for name, service in compose["services"].items():
        if service.get("image") != "credit-ledger:latest":
            continue
        args = parser.parse_args(service["command"])  # exits (SystemExit) on an unknown command
        assert callable(getattr(args, "handler", None)), f"{name}: {service['command']}"


def test_the_image_entry_point_is_the_ledger_command() -> None:
    dockerfile = (COMPOSE.parent / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["ledger"]' in dockerfile
    assert "USER ledger" in dockerfile
