"""The national service's configuration: which regions it gathers, read from a file.

TOML (``.toml``) or JSON (any other name)::

    group = "credit-national"                 # consumer group (default credit-national)
    bootstrap = "kafka:9092"                  # default LEDGER_KAFKA_BOOTSTRAP
    database_url = "postgresql://…/national?schema=national"   # default LEDGER_DATABASE_URL

    [[region]]
    origin = "credit-ledger/360000"           # the region's LEDGER_NAME
    public_key = "base64 of the raw Ed25519 key"   # `ledger checkpoint --public-key`
    base_url = "https://credit.jiangxi.example"    # the region's API
    feed_topic = "credit.disclosure.changes.360000"     # its LEDGER_KAFKA_FEED_TOPIC
    checkpoint_topic = "credit.checkpoints.360000"      # its LEDGER_KAFKA_CHECKPOINT_TOPIC

(JSON: the same keys, ``regions`` a list of objects.)

Topics: one pair per region is the recommended shape. The topic says who speaks (Kafka ACLs
give each region write on its own two topics alone, as agency topics do for agencies), and
each message also names its origin (the feed's ``origin`` attribute, the checkpoint's
``origin``): a message whose origin is not one of the regions configured for its topic is
refused. Regions MAY share a topic (a small deployment); the origin field then tells them
apart. Origins and base URLs must be unique.
"""

from __future__ import annotations

import base64
import binascii
import json
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_GROUP",
    "NationalConfig",
    "Region",
    "RegionsFileError",
    "load_config",
    "regions_file_text",
]


class RegionsFileError(ValueError):
    """The regions file is missing, unreadable, or not a valid configuration (the message
    says where and why); the command line reports it as a configuration error."""

DEFAULT_GROUP = "credit-national"


@dataclass(frozen=True, slots=True)
class Region:
    """One regional ledger, as the national service knows it."""

    origin: str
    public_key: bytes
    """The raw 32-byte Ed25519 key its checkpoints are signed with."""
    base_url: str
    """Its API, without a trailing slash (links to its audit bundles and records)."""
    feed_topic: str
    checkpoint_topic: str

    def link(self, path: str) -> str:
        """``path`` (starting with ``/``) on the region's API."""
        return f"{self.base_url}{path}"

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "public_key": base64.b64encode(self.public_key).decode(),
            "base_url": self.base_url,
            "feed_topic": self.feed_topic,
            "checkpoint_topic": self.checkpoint_topic,
        }


@dataclass(frozen=True, slots=True)
class NationalConfig:
    """The regions and where the national service reads and keeps what they publish."""

    regions: tuple[Region, ...]
    group: str = DEFAULT_GROUP
    bootstrap: str | None = None
    database_url: str | None = None

    def region(self, origin: str) -> Region | None:
        return next((r for r in self.regions if r.origin == origin), None)

    def topics(self) -> list[str]:
        """Every topic to subscribe to, sorted, once each."""
        return sorted({t for r in self.regions for t in (r.feed_topic, r.checkpoint_topic)})

    def speakers(self, topic: str) -> dict[str, Region]:
        """Origin → region, of the regions that may publish on ``topic``."""
        return {r.origin: r for r in self.regions if topic in (r.feed_topic, r.checkpoint_topic)}

    def is_checkpoint_topic(self, topic: str) -> bool:
        return any(r.checkpoint_topic == topic for r in self.regions)

    @classmethod
    def from_mapping(cls, obj: Mapping[str, Any], where: str = "configuration") -> NationalConfig:
        """The configuration in a parsed file (module docstring).

        Raises:
            RegionsFileError: a key is missing or has the wrong form (the message says which).
        """
        raw = obj.get("region", obj.get("regions"))
        if not isinstance(raw, list) or not raw:
            raise RegionsFileError(f"{where}: no regions ([[region]] tables or a regions list)")
        regions = tuple(_region(r, f"{where}: region {i + 1}") for i, r in enumerate(raw))
        for attr in ("origin", "base_url"):
            values = [getattr(r, attr) for r in regions]
            if len(values) != len(set(values)):
                raise RegionsFileError(f"{where}: two regions have the same {attr}")
        checkpoint_topics = {r.checkpoint_topic for r in regions}
        if checkpoint_topics & {r.feed_topic for r in regions}:
            raise RegionsFileError(f"{where}: a topic is both a feed and a checkpoint topic")
        options = {k: obj.get(k) for k in ("group", "bootstrap", "database_url")}
        for key, value in options.items():
            if value is not None and not (isinstance(value, str) and value):
                raise RegionsFileError(f"{where}: {key} must be a non-empty string")
        return cls(
            regions,
            group=options["group"] or DEFAULT_GROUP,
            bootstrap=options["bootstrap"],
            database_url=options["database_url"],
        )


def _region(obj: Any, where: str) -> Region:
    if not isinstance(obj, Mapping):
        raise RegionsFileError(f"{where}: not a table")
    values: dict[str, str] = {}
    for key in ("origin", "public_key", "base_url", "feed_topic", "checkpoint_topic"):
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            raise RegionsFileError(f"{where}: {key} is missing or not a string")
        values[key] = value.strip()
    try:
        public_key = base64.b64decode(values["public_key"], validate=True)
    except (binascii.Error, ValueError):
        public_key = b""
    if len(public_key) != 32:
        raise RegionsFileError(
            f"{where} ({values['origin']}): public_key must be the base64 of a raw 32-byte "
            "Ed25519 key (`ledger checkpoint --public-key` prints it)"
        )
    if not values["base_url"].startswith(("http://", "https://")):
        raise RegionsFileError(f"{where} ({values['origin']}): base_url must be http(s)://…")
    return Region(
        origin=values["origin"],
        public_key=public_key,
        base_url=values["base_url"].rstrip("/"),
        feed_topic=values["feed_topic"],
        checkpoint_topic=values["checkpoint_topic"],
    )


def load_config(path: Path | str) -> NationalConfig:
    """The configuration in the file at ``path`` (TOML when it ends in ``.toml``, else JSON).

    Raises:
        RegionsFileError: the file cannot be read or parsed, or is not a configuration.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RegionsFileError(f"{path}: cannot read the regions file ({e.strerror})") from e
    try:
        obj = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        raise RegionsFileError(
            f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'}: {e}"
        ) from e
    if not isinstance(obj, Mapping):
        raise RegionsFileError(f"{path}: not a table of settings")
    return NationalConfig.from_mapping(obj, str(path))


def regions_file_text(regions: Sequence[Region], **options: str) -> str:
    """A JSON regions file for ``regions`` (what tests and the benchmark write)."""
    return json.dumps({**options, "regions": [r.to_json() for r in regions]}, indent=2)
