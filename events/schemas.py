"""JSON Schemas (2020-12) of whole CloudEvents, one per event type.

``schema_for(type)`` describes the complete event an agency sends: the
envelope attributes this ledger requires and ``data`` as the type's model
defines it. The files in ``events/schemas/`` are generated from here
(``ledger schema --write`` or ``python -m events.schemas``) and a test keeps
them equal. What a schema cannot express is said in its description and
checked by :func:`events.envelope.parse_event` (check characters, time range,
size, floats, integer range).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from events.dates import DEFAULT_RANGE
from events.envelope import MAX_DATA_BYTES, MAX_ID_LENGTH
from events.vocabulary import EVENT_TYPES, event_type

__all__ = [
    "SCHEMA_BASE",
    "SCHEMA_DIR",
    "all_schemas",
    "render_schema",
    "schema_for",
    "write_schemas",
]

SCHEMA_BASE = "https://credit-ledger.example/schemas/"
"""The `$id` prefix; a schema's `$id` is ``<base><type>.v<version>.json``."""
SCHEMA_DIR = Path(__file__).with_name("schemas")
"""Where the generated files live (shipped as package data)."""

_DIALECT = "https://json-schema.org/draft/2020-12/schema"
_NO_CONTROL = r"[^\x00-\x1f\x7f-\x9f]"
_IDENTIFIER = f"^{_NO_CONTROL}*[^\\s\\x00-\\x1f\\x7f-\\x9f]{_NO_CONTROL}*$"
_TIME = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_SUBJECT = "^[0-9A-HJ-NPQRTUWXY]{18}$"


def _case_insensitive(text: str) -> str:
    """A regex matching ``text`` in any letter case (JSON Schema has no flags)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in text)


_CONTENT_TYPE = f"^\\s*{_case_insensitive('application/json')}\\s*(;.*)?$"


def _identifier(what: str) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_ID_LENGTH,
        "pattern": _IDENTIFIER,
        "description": f"{what} At most {MAX_ID_LENGTH} characters, no control characters.",
    }


def _drop_null_defaults(data_schema: dict[str, Any]) -> None:
    """Optional fields that may not be null: say nothing about a default."""
    for prop in data_schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


def schema_for(type_name: str) -> dict[str, Any]:
    """The JSON Schema 2020-12 of a whole CloudEvent of ``type_name``.

    Raises ``InvalidEvent(UNKNOWN_TYPE)`` for a type outside the vocabulary.
    Returns a new dict on every call.
    """
    etype = event_type(type_name)
    data = etype.model.model_json_schema(mode="validation")
    defs = data.pop("$defs", None)
    _drop_null_defaults(data)
    summary = (etype.model.__doc__ or etype.name).strip().splitlines()[0]
    schema: dict[str, Any] = {
        "$schema": _DIALECT,
        "$id": f"{SCHEMA_BASE}{etype.name}.v{etype.version}.json",
        "title": f"{etype.name} (schema version {etype.version})",
        "description": (
            f"{summary} A CloudEvents 1.0 event in structured JSON; extension attributes "
            "are allowed and ignored. Beyond this schema the ledger checks: the subject "
            "code's check characters (GB 11714, GB 32100); time and every date "
            f"of data within {DEFAULT_RANGE.text} (China Standard Time; configurable) and time "
            f"not in the future; data at most {MAX_DATA_BYTES} bytes as compact JSON; "
            "no floating-point numbers anywhere in data (money is a decimal string such as "
            '"3000.00"); integers within ±(2**53 − 1); references name earlier events of '
            "the same subject."
        ),
        "type": "object",
        "required": ["specversion", "id", "source", "type", "subject", "time", "data"],
        "properties": {
            "specversion": {"const": "1.0", "description": "The CloudEvents version."},
            "id": _identifier(
                "The agency's own unique id of this event; with source, the idempotency key."
            ),
            "source": _identifier("The issuing agency's code (认定单位), e.g. samr/440300."),
            "type": {"const": etype.name, "description": "The event type."},
            "subject": {
                "type": "string",
                "pattern": _SUBJECT,
                "description": "The market subject's unified social credit code "
                "(统一社会信用代码, GB 32100-2015), upper case.",
            },
            "time": {
                "type": "string",
                "format": "date-time",
                "pattern": _TIME,
                "description": "When the fact took effect (valid time): an RFC 3339 "
                "date-time with Z or an offset, e.g. 2025-03-01T09:30:00+08:00.",
            },
            "datacontenttype": {
                "type": ["string", "null"],
                "pattern": _CONTENT_TYPE,
                "description": "application/json (parameters allowed), or absent.",
            },
            "data": data,
        },
        "additionalProperties": True,
    }
    if defs:
        schema["$defs"] = defs
    return schema


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every type's schema, keyed by type string, in vocabulary order."""
    return {name: schema_for(name) for name in EVENT_TYPES}


def render_schema(schema: dict[str, Any]) -> str:
    """The file text of a schema: indented, sorted keys, UTF-8 kept, final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write ``<type>.json`` for every type into ``directory``; return the paths.

    Creates the directory if needed and deletes ``credit.*.json`` files there
    that name no current type, so the directory holds exactly one file per type.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, schema in all_schemas().items():
        path = directory / f"{name}.json"
        path.write_text(render_schema(schema), encoding="utf-8")
        written.append(path)
    for stale in directory.glob("credit.*.json"):
        if stale.name.removesuffix(".json") not in EVENT_TYPES:
            stale.unlink()
    return written


if __name__ == "__main__":  # pragma: no cover
    paths = write_schemas(Path(sys.argv[1]) if len(sys.argv) > 1 else SCHEMA_DIR)
    print(f"wrote {len(paths)} schemas", file=sys.stderr)
