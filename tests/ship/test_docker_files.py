"""docker/ as shipped: the build context leaves local state and secrets out, every
worker's health check follows its heartbeat, ingest publishes metrics where Prometheus
scrapes them, the feed and a scheduled backup run, the secrets' required owner and
mode are written down, and the Prometheus rules and Grafana dashboard only use metrics
the ledger exports (``promtool`` itself checks the files: tools/ensure-promtool.sh,
run by ``make test``)."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.exposition import generate_latest

from federation.national.config import NationalConfig, Region
from federation.national.metrics import NationalMetrics
from federation.witness import WitnessMetrics
from ledger.audit.verifications import Verification, VerificationSummary
from ledger.metrics import LedgerMetrics

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
PROMTOOL = ROOT / ".venv" / "bin" / "promtool"
WORKERS = {"ingest", "project", "feed", "tick", "checkpoint", "verify"}


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule, enough for these patterns: a path is out when it
    or one of its parent directories matches a pattern (``**/`` matches any depth)."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    out = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw.lstrip("!").strip("/")
        alternatives = {pattern, pattern.replace("**/", "")}
        if any(fnmatch.fnmatchcase(c, a) for c in candidates for a in alternatives):
            out = not negate
    return out


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize(
    "path",
    [
        ".venv/lib/python3.11/site-packages/x.py",
        ".git/HEAD",
        "ledger.db",
        "ledger.db-wal",
        "signing.key",
        "person.key",
        "tokens.json",
        "docker/.env",
        "docker/secrets/signing.key",
        "api/__pycache__/app.cpython-311.pyc",
        "backups/ledger-20261120.dump",
    ],
)
def test_local_state_and_secrets_stay_out_of_the_build_context(path: str) -> None:
    assert _ignored(path, _dockerignore()), f"{path} would be sent to the Docker daemon"


@pytest.mark.parametrize(
    "path",
    ["pyproject.toml", "README.md", "api/templates/base.html", "commands/rules/procedures.json",
     "tools/verify_bundle.py", "entrypoints/cli/__init__.py"],
)
def test_what_the_dockerfile_copies_is_in_the_build_context(path: str) -> None:
    assert not _ignored(path, _dockerignore()), f"{path} is needed by docker/Dockerfile"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    return loaded


def _environment(service: dict[str, Any]) -> dict[str, Any]:
    env: dict[str, Any] = service.get("environment") or {}
    return env


def test_every_worker_is_healthy_only_while_its_loop_goes_round(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= WORKERS | {"serve", "backup", "prometheus"}
    for name in WORKERS:
        service = services[name]
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "ledger", "healthcheck"], name
        max_age = float(test[test.index("--max-age") + 1])
        assert max_age >= 60, name
        assert _environment(service).get("LEDGER_HEARTBEAT_FILE"), name
    assert services["feed"]["command"] == ["feed"]


def test_ingest_serves_metrics_where_prometheus_scrapes_them(compose: dict[str, Any]) -> None:
    port = int(_environment(compose["services"]["ingest"])["LEDGER_METRICS_PORT"])
    config = yaml.safe_load((DOCKER / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    (ingest_sd,) = jobs["ledger-ingest"]["dns_sd_configs"]
    assert ingest_sd["names"] == ["ingest"] and ingest_sd["port"] == port
    assert jobs["ledger-serve"]["static_configs"][0]["targets"] == ["serve:8000"]


def test_the_backup_runs_daily_into_a_volume_the_service_user_owns(compose: dict[str, Any]) -> None:
    backup = compose["services"]["backup"]
    script = " ".join(backup["command"])
    assert "ledger backup /backups/" in script and "sleep 86400" in script
    assert "backups:/backups" in backup["volumes"]
    assert "-mmin" in " ".join(backup["healthcheck"]["test"])  # unhealthy when stale
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert "chown ledger:ledger /backups" in dockerfile


def test_the_secrets_owner_and_mode_are_written_down() -> None:
    for text in ((DOCKER / "compose.yaml").read_text(), (ROOT / "README.md").read_text()):
        assert "chown 10001:10001 docker/secrets/" in text
        assert "chmod 0400 docker/secrets/" in text


# -- Prometheus and Grafana -----------------------------------------------------------------


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    if not os.access(PROMTOOL, os.X_OK):
        pytest.fail(
            f"{PROMTOOL.relative_to(ROOT)} is missing: run `bash tools/ensure-promtool.sh` "
            "(`make test` does)",
            pytrace=False,
        )
    return subprocess.run(
        [str(PROMTOOL), *args], cwd=DOCKER / "prometheus", capture_output=True, text=True,
        timeout=120,
    )


def test_promtool_accepts_the_config_and_the_rules() -> None:
    for args in (("check", "config", "prometheus.yml"), ("check", "rules", "alerts.yml")):
        result = _promtool(*args)
        assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_fires_when_it_should_and_not_otherwise() -> None:
    result = _promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_cover_verify_lag_and_rejections() -> None:
    rules = yaml.safe_load((DOCKER / "prometheus" / "alerts.yml").read_text())
    names = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    assert names >= {
        "LedgerVerifyFailed", "LedgerVerifyStale", "LedgerProjectionLag", "LedgerIngestLag",
        "LedgerRejectionRate", "LedgerWitnessFork", "LedgerNationalViewLagging",
    }


def _exported_metric_names() -> set[str]:
    """Every sample name a ledger process exports (serve's and ingest's registries, the
    witness's and the national view's)."""
    metrics = LedgerMetrics()
    metrics.set_ingest_lag(0, 1)
    metrics.track_projection_lag(lambda: 0.0)
    metrics.track_verifications(lambda: _summary_with_runs())
    metrics.events.labels("recorded", "t", "a").inc()
    metrics.rejections.labels("c").inc()
    metrics.submit_seconds.observe(0.1)
    metrics.batch_events.observe(1)
    witness = WitnessMetrics()  # `ledger witness --serve` exports these
    witness.forks.labels("o").inc()
    region = Region("o", bytes(32), "https://o.example", "feed", "checkpoints")
    national = NationalMetrics(NationalConfig((region,)))  # `ledger national`'s
    national.lag_seconds.labels("o").set(1)
    national.refuse("feed")
    text = (
        metrics.exposition().decode()
        + generate_latest(witness.registry).decode()
        + national.exposition().decode()
    )
    return {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}


def _summary_with_runs() -> VerificationSummary:
    last = Verification(finished_us=2_000_000, outcome="ok", records=10)
    return VerificationSummary(
        runs={"ok": 1, "failed": 1}, last_run_us={"ok": 2_000_000, "failed": 1_000_000}, last=last
    )


def _referenced(text: str) -> set[str]:
    return set(re.findall(r"\bledger_[a-z_]+\b", text))


def test_the_rules_and_the_dashboard_use_only_exported_metrics() -> None:
    exported = _exported_metric_names()
    rules = _referenced((DOCKER / "prometheus" / "alerts.yml").read_text())
    dashboard_text = (DOCKER / "grafana" / "dashboards" / "credit-ledger.json").read_text()
    dashboard = json.loads(dashboard_text)
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    used = rules | _referenced(exprs)
    assert used, "no metric referenced"
    assert used <= exported, f"not exported by the ledger: {sorted(used - exported)}"
    assert {"ledger_projection_lag_records", "ledger_ingest_lag_messages"} <= _referenced(exprs)


def test_the_dashboard_reads_the_provisioned_data_source() -> None:
    provisioning = yaml.safe_load(
        (DOCKER / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    (source,) = provisioning["datasources"]
    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "credit-ledger.json").read_text())
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
        assert panel["targets"], panel["title"]
