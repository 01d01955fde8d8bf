"""The OpenAPI models of the v1 API: request and response shapes, with examples.

Responses are rendered straight from the projections' ``to_json()`` dicts with
orjson (:mod:`api.responses`); these models document them (and generate
clients). Every model allows extra members: the projections may add keys, and
DESIGN.md says extra keys are fine.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledger.audit.format import BUNDLE_FORMAT

CODE_PATTERN = "^[0-9A-HJ-NPQRTUWXY]{18}$"
CODE_FORMAT = "unified-social-credit-code"
"""The OpenAPI format of a code: the pattern, plus the two check characters."""
EXAMPLE_CODE = "91440300708461136T"
INSTANT_FORMAT = "ledger-instant"
"""The OpenAPI format of ``as_of``/``known_at``: an RFC 3339 date-time with offset or a
date, within the accepted range (events.dates), which no JSON Schema format can bound."""

_open = ConfigDict(extra="allow")


class Problem(BaseModel):
    """RFC 9457 problem details, with the stable reason ``code``."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "/problems/subject-code-check",
                    "title": "Bad Request",
                    "status": 400,
                    "detail": "subject code '91440300708461136A': check character "
                    "(position 18) is 'A', expected 'T'",
                    "instance": "/v1/subjects/91440300708461136A/standing",
                    "code": "subject-code-check",
                    "expected": "T",
                }
            ]
        },
    )

    type: str = Field(description="URI reference naming the problem type: /problems/<code>")
    title: str = Field(description="Short summary of the HTTP status")
    status: int = Field(description="The HTTP status code")
    detail: str = Field(description="What went wrong, for a person")
    instance: str | None = Field(None, description="The request path")
    code: str = Field(description="The stable reason code (events.reasons.Reason)")
    errors: list[EventResult] | None = Field(
        None, description="Per-event results, when a batch is involved"
    )
    invalid: list[dict[str, str]] | None = Field(
        None, description="Per-parameter validation errors (name, reason)"
    )


EXAMPLE_EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "samr-440300-2026-000123",
    "source": "samr/440300",
    "type": "credit.penalty.decided",
    "subject": EXAMPLE_CODE,
    "time": "2026-03-02T10:30:00+08:00",
    "datacontenttype": "application/json",
    "data": {
        "kinds": ["warning", "fine"],
        "amount": "3000.00",
        "procedure": "ordinary",
        "severity": "general",
        "sector": "food",
        "basis": "《食品安全法》第一百二十四条",
        "document": "深市监罚〔2026〕123号",
    },
}
"""An example CloudEvent (the request schemas come from ``events.schemas``)."""


def cloudevent_components() -> dict[str, dict[str, Any]]:
    """OpenAPI component schemas of the submitted events: one per type
    (``CloudEvent-<type>``, from :func:`events.schemas.all_schemas`, the subject
    marked with the format ``unified-social-credit-code``) and ``CloudEvent``,
    the union of them."""
    from events.schemas import all_schemas

    components: dict[str, dict[str, Any]] = {}
    for name, schema in sorted(all_schemas().items()):
        copy = {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
        properties = dict(copy["properties"])
        properties["subject"] = {**properties["subject"], "format": CODE_FORMAT}
        copy["properties"] = properties
        components[f"CloudEvent-{name}"] = copy
    components["CloudEvent"] = {
        "title": "CloudEvent",
        "description": "One credit event as a CloudEvents 1.0 structured-JSON object "
        "(DESIGN.md); `type` selects the shape of `data` (DOMAIN.md).",
        "oneOf": [{"$ref": f"#/components/schemas/CloudEvent-{n}"} for n in sorted(all_schemas())],
        "examples": [EXAMPLE_EVENT],
    }
    return components


class EventResult(BaseModel):
    """What happened to one submitted event (the ``submit --json`` shape)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "id": "samr-440300-2026-000123",
                    "source": "samr/440300",
                    "status": "recorded",
                    "code": None,
                    "message": None,
                    "subject": EXAMPLE_CODE,
                    "seq": 7,
                    "position": 20512,
                    "hash": "9f2c…",
                }
            ]
        },
    )

    id: str | None
    source: str | None
    status: Literal["recorded", "repeat", "rejected"]
    code: str | None = Field(description="Reason code when rejected, else null")
    message: str | None = Field(description="One line for a person when rejected, else null")
    subject: str | None = None
    seq: int | None = None
    position: int | None = None
    hash: str | None = None


class Standing(BaseModel):
    """A subject's credit standing at (as_of, known_at) (``standing --json``)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "subject": EXAMPLE_CODE,
                    "grade": "B",
                    "score": 78,
                    "explanation": ["general penalty 2026-03-02 (−12)"],
                    "measures": [],
                    "lists": [],
                    "suspended": [],
                }
            ]
        },
    )

    subject: str
    grade: str | None
    score: int | float | str | None
    explanation: list[Any]
    measures: list[Any]
    lists: list[str]
    suspended: list[str]
    trustworthy: dict[str, Any] | None = Field(
        default=None,
        description="Membership of the trustworthy list (守信激励): scheme, grades, since, "
        "valid_until, the lowered spot_check_ratio and the evaluations it rests on "
        "(derived_from); null when the subject does not qualify.",
    )


class DisclosureItem(BaseModel):
    """One record and whether it is public (``disclosure --json`` items)."""

    model_config = _open

    event_id: str
    published: bool
    from_: str | None = Field(alias="from")
    until: str | None
    publish_by: str | None
    late: bool
    reason: str


class Disclosure(BaseModel):
    """What the public sees of a subject; personal data masked."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "subject": EXAMPLE_CODE,
                    "items": [
                        {
                            "event_id": "samr-440300-2026-000123",
                            "published": True,
                            "from": "2026-03-03",
                            "until": "2027-03-02",
                            "publish_by": "2026-03-11",
                            "late": False,
                            "reason": "general penalty: public 1 year from the decision",
                        }
                    ],
                }
            ]
        },
    )

    subject: str
    items: list[DisclosureItem]


class Paging(BaseModel):
    """The paging members of a list-shaped answer (``api.paging``)."""

    model_config = _open

    next: str | None = Field(
        None, description="Cursor of the next page (pass as `cursor`); null on the last page"
    )
    total: int | None = Field(None, description="Items of the whole answer")
    limit: int | None = Field(None, description="The page size used")


class HistoryEvent(BaseModel):
    """One record with both clocks (``history --json`` items)."""

    model_config = _open

    seq: int
    id: str
    source: str
    type: str
    time: str
    recorded_us: int
    data: dict[str, Any]
    hash: str | None = None
    prev: str | None = None
    position: int | None = None


class History(Paging):
    """A subject's records in stream order, as known at ``known_at``; paged."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "subject": EXAMPLE_CODE,
                    "events": [
                        {
                            "seq": 1,
                            "position": 17,
                            "id": "samr-440300-2026-000123",
                            "source": "samr/440300",
                            "type": "credit.penalty.decided",
                            "time": "2026-03-02T02:30:00Z",
                            "recorded_us": 1772433000000000,
                            "data": {"kinds": ["fine"], "amount": "3000.00"},
                            "hash": "9f2c…",
                            "prev": "0000…",
                        }
                    ],
                }
            ]
        },
    )

    subject: str
    events: list[HistoryEvent]


class ListMembers(Paging):
    """The members of a public list at ``as_of`` (one per listing); paged."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "list": "serious-dishonesty",
                    "members": [{"subject": EXAMPLE_CODE, "name": "深圳某某有限公司"}],
                }
            ]
        },
    )

    list_: str = Field(alias="list", description="The list's name")
    members: list[dict[str, Any]]
    subjects: int | None = Field(
        None, description="Distinct subjects of the whole answer (a subject listed twice counts once)"
    )


class SearchHit(BaseModel):
    """One subject found by name or code."""

    model_config = _open

    subject: str
    name: str | None


class SearchResults(Paging):
    """Subjects matching ``q``: the exact code first, then by code; paged."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "query": "深圳",
                    "items": [{"subject": EXAMPLE_CODE, "name": "深圳某某有限公司"}],
                    "next": None,
                    "total": 1,
                    "limit": 100,
                }
            ]
        },
    )

    query: str
    items: list[SearchHit]


class RecordView(BaseModel):
    """One record as the reader may see it: ``record`` (its history entry) for those
    who see it whole, ``disclosure`` (its disclosure item as shown to the reader)."""

    model_config = _open

    subject: str
    source: str
    id: str
    record: dict[str, Any] | None = Field(description="The history entry, or null")
    disclosure: dict[str, Any] | None = Field(description="The disclosure item, or null")


class PublicKey(BaseModel):
    """The key that signs checkpoints and credit reports (verify them offline)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {"algorithm": "Ed25519", "public_key": "base64…", "origin": "credit-ledger"}
            ]
        },
    )

    algorithm: Literal["Ed25519"]
    public_key: str = Field(description="The raw 32-byte public key, base64")
    origin: str | None = Field(None, description="The checkpoints' origin line")


class Checkpoint(BaseModel):
    """A signed tree head (AUDIT-FORMAT.md "Checkpoints"): the fields are
    ``ledger.audit.format.CHECKPOINT_KEYS`` (tests/unit/ledger/test_audit_format.py)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "origin": "credit-ledger",
                    "size": 22312,
                    "root": "5c1e…",
                    "issued_us": 1763632800000000,
                    "signature": "base64…",
                }
            ]
        },
    )

    origin: str
    size: int
    root: str
    issued_us: int
    heads_root: str | None = None
    signature: str


class Consistency(BaseModel):
    """An RFC 9162 consistency proof between two tree sizes."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [{"from": 1000, "to": 22312, "proof": ["ab12…", "cd34…"]}]
        },
    )

    from_: int = Field(alias="from")
    to: int
    proof: list[str] = Field(description="RFC 9162 §2.1.4 proof, hex node hashes")
    from_root: str | None = Field(None, description="Root of the first `from` leaves (hex)")
    to_root: str | None = Field(None, description="Root of the first `to` leaves (hex)")
    from_checkpoint: Checkpoint | None = Field(None, description="Signed checkpoint of `from`, if any")
    to_checkpoint: Checkpoint | None = Field(None, description="Signed checkpoint of `to`, if any")


class AuditBundle(BaseModel):
    """A subject's records with inclusion proofs and a signed checkpoint
    (AUDIT-FORMAT.md "The bundle", keys ``ledger.audit.format.BUNDLE_KEYS``); ``head`` proves the last record is the
    subject's last at the checkpoint. ``tools/verify_bundle.py`` checks it offline."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "format": BUNDLE_FORMAT,
                    "subject": EXAMPLE_CODE,
                    "public_key": "base64…",
                    "checkpoint": {
                        "origin": "credit-ledger",
                        "size": 22312,
                        "root": "5c1e…",
                        "issued_us": 1763632800000000,
                        "heads_root": "77aa…",
                        "signature": "base64…",
                    },
                    "records": [
                        {
                            "record": {"format": 1, "subject": EXAMPLE_CODE, "seq": 1, "position": 17},
                            "hash": "9f2c…",
                            "inclusion": ["ab12…"],
                        }
                    ],
                    "head": {},
                }
            ]
        },
    )

    format: str
    subject: str
    public_key: str
    checkpoint: Checkpoint
    records: list[dict[str, Any]]
    head: dict[str, Any] | None = None
    cosignatures: list[dict[str, Any]] | None = Field(
        None,
        description="Witnesses' cosignatures of the checkpoint (AUDIT-FORMAT.md \"Witness "
        "cosignature\"), when the ledger is configured with witnesses (`LEDGER_WITNESSES`)",
    )


class Health(BaseModel):
    """Liveness or readiness."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"examples": [{"status": "ok", "checks": {"database": "ok"}}]},
    )

    status: Literal["ok", "unavailable"]
    checks: dict[str, Any] = Field(default_factory=dict)


Problem.model_rebuild()
