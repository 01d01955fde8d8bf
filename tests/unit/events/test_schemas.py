"""The exported JSON Schemas: in sync with the models, and they accept the samples."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from events.reasons import InvalidEvent
from events.schemas import SCHEMA_DIR, all_schemas, render_schema, schema_for, write_schemas
from events.vocabulary import EVENT_TYPES
from tests.unit.events.samples import SAMPLES


def test_one_file_per_type_and_no_extra_files() -> None:
    on_disk = sorted(p.name for p in SCHEMA_DIR.iterdir())
    assert on_disk == sorted(f"{name}.json" for name in EVENT_TYPES), (
        "events/schemas/ is out of date: run `ledger schema --write`"
    )


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_files_on_disk_equal_the_generated_schemas(name: str) -> None:
    path = SCHEMA_DIR / f"{name}.json"
    expected = render_schema(all_schemas()[name])
    assert path.exists() and path.read_text(encoding="utf-8") == expected, (
        f"{path} is out of date: run `ledger schema --write`"
    )


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_schema_header(name: str) -> None:
    schema = schema_for(name)
    version = EVENT_TYPES[name].version
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://credit-ledger.example/schemas/{name}.v{version}.json"
    assert name in schema["title"] and schema["description"]
    assert schema["properties"]["type"] == {"const": name, "description": "The event type."}
    assert set(schema["required"]) == {
        "specversion",
        "id",
        "source",
        "type",
        "subject",
        "time",
        "data",
    }


def test_unknown_type_has_no_schema() -> None:
    with pytest.raises(InvalidEvent):
        schema_for("credit.nothing.happened")


def test_write_schemas_writes_every_type_and_removes_stale_ones(tmp_path: Path) -> None:
    stale = tmp_path / "credit.old.thing.json"
    stale.write_text("{}")
    keep = tmp_path / "README.md"
    keep.write_text("not a schema")
    written = write_schemas(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{n}.json" for n in EVENT_TYPES)
    assert not stale.exists() and keep.exists()
    text = (tmp_path / "credit.penalty.decided.json").read_text(encoding="utf-8")
    assert text.endswith("}\n") and "文书号" in text  # ensure_ascii=False


# -- validation with jsonschema (a test extra) ------------------------------------------

jsonschema = pytest.importorskip("jsonschema")


def validator(name: str) -> Any:
    schema = schema_for(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_is_valid_against_its_schema(name: str) -> None:
    errors = list(validator(name).iter_errors(SAMPLES[name]))
    assert not errors, [e.message for e in errors]


def _penalty(**changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(SAMPLES["credit.penalty.decided"])
    for key, value in changes.items():
        if key.startswith("data_"):
            event["data"][key[5:]] = value
        else:
            event[key] = value
    return event


@pytest.mark.parametrize(
    "bad",
    [
        _penalty(specversion="0.3"),
        _penalty(type="credit.penalty.withdrawn"),
        _penalty(subject="n2110000ma0000007n"),
        _penalty(subject="91440300708461O36T"),
        _penalty(time="2024-01-20T10:00:00"),
        _penalty(time="2024-01-20"),
        _penalty(id=""),
        _penalty(id="a\nb"),
        _penalty(datacontenttype="text/plain"),
        _penalty(data_amount=3000),
        _penalty(data_amount="3,000"),
        _penalty(data_kinds=[]),
        _penalty(data_kinds=["fine", "fine"]),
        _penalty(data_severity="grave"),
        _penalty(data_basis="  "),
        {k: v for k, v in _penalty().items() if k != "time"},
    ],
)
def test_schema_refuses_what_the_parser_refuses(bad: dict[str, Any]) -> None:
    assert list(validator("credit.penalty.decided").iter_errors(bad))


def test_optional_basis_may_be_absent_but_not_null() -> None:
    check = validator("credit.ban.lifted")
    event = copy.deepcopy(SAMPLES["credit.ban.lifted"])
    assert not list(check.iter_errors(event))
    event["data"]["basis"] = None
    assert list(check.iter_errors(event))
