"""``POST /v1/events``: one CloudEvent or a JSON array of them.

Contract (DESIGN.md "HTTP API (v1)"):

* one object → 201 ``recorded`` (``Location`` names the subject's history),
  200 ``repeat`` (the same (source, id) with the same content: the first
  recording's result), or a problem: 403 ``source-not-allowed`` /
  ``type-not-allowed``, 409 ``id-reused`` / ``write-conflict``, 400 ``not-json``,
  otherwise 422 with the rejection's reason code;
* an array → 200 with one result per element in input order (the
  ``submit --json`` shape), whatever each one's status; an empty array → [];
* the whole request is ONE :meth:`Ledger.submit` call (one round of appends).

Who may submit what: an agency only events whose ``source`` is its agency code;
an objection handler only ``credit.objection.resolved``,
``credit.record.corrected`` and ``credit.record.revoked`` (and, if its token
names an agency, only under that source). A refused event is not written; the
others of a batch still are.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from api.auth import HANDLER_TYPES
from api.problems import ProblemError
from api.tokens import Principal, Role
from events.envelope import Envelope, Refused, parse_submission
from events.reasons import Reason, Rejection
from ledger.app import Ledger, Outcome

__all__ = ["JSON_MEDIA_TYPES", "MAX_BATCH", "MAX_BODY_BYTES", "authorise", "parse_body", "submit"]

MAX_BODY_BYTES = 32 * 1024 * 1024
"""The largest request body accepted (32 MiB)."""
MAX_BATCH = 10_000
"""The most events in one request."""
JSON_MEDIA_TYPES = frozenset(
    {"application/json", "application/cloudevents+json", "application/cloudevents-batch+json"}
)


def parse_body(body: bytes, content_type: str | None) -> tuple[bool, list[Envelope | Refused]]:
    """(is it a batch, the parsed items). Raises a 4xx :class:`ProblemError` when
    the request as a whole cannot be read: wrong media type (415), not JSON (400),
    too large (413), neither an object nor an array (400)."""
    if content_type:
        media = content_type.split(";", 1)[0].strip().lower()
        if media not in JSON_MEDIA_TYPES:
            raise ProblemError(
                415,
                Reason.UNSUPPORTED_MEDIA_TYPE,
                f"Content-Type {media!r} is not accepted; send application/json "
                "(or application/cloudevents+json, application/cloudevents-batch+json)",
            )
    if len(body) > MAX_BODY_BYTES:
        raise ProblemError(
            413,
            Reason.PAYLOAD_TOO_LARGE,
            f"the body has {len(body)} bytes; at most {MAX_BODY_BYTES} are accepted",
            limit=MAX_BODY_BYTES,
        )
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise ProblemError(
            400, Reason.NOT_JSON, f"the body is not JSON ({e.msg} at line {e.lineno}, column {e.colno})"
        ) from e
    if isinstance(document, list):
        if len(document) > MAX_BATCH:
            raise ProblemError(
                413,
                Reason.PAYLOAD_TOO_LARGE,
                f"the batch has {len(document)} events; at most {MAX_BATCH} per request",
                limit=MAX_BATCH,
            )
        return True, parse_submission(body)
    if not isinstance(document, dict):
        raise ProblemError(
            400,
            Reason.NOT_AN_OBJECT,
            "the body must be one CloudEvent (a JSON object) or a JSON array of them",
        )
    return False, parse_submission(body)


def _refuse(index: int, env: Envelope, code: Reason, message: str, **details: str) -> Refused:
    return Refused(index, env.id, env.source, Rejection(code, message, dict(details)))


def authorise(principal: Principal, items: Sequence[Envelope | Refused]) -> list[Envelope | Refused]:
    """The items with those the principal may not submit turned into refusals."""
    out: list[Envelope | Refused] = []
    for index, item in enumerate(items):
        if isinstance(item, Envelope):
            if principal.agency is not None and item.source != principal.agency:
                item = _refuse(
                    index,
                    item,
                    Reason.SOURCE_NOT_ALLOWED,
                    f"this token may submit only as source {principal.agency!r}, "
                    f"not {item.source!r}",
                    field="source",
                    allowed=principal.agency,
                )
            elif principal.role is Role.HANDLER and item.type not in HANDLER_TYPES:
                item = _refuse(
                    index,
                    item,
                    Reason.TYPE_NOT_ALLOWED,
                    f"an objection handler may not submit {item.type}; only "
                    + ", ".join(sorted(HANDLER_TYPES)),
                    field="type",
                )
            elif principal.role not in (Role.AGENCY, Role.HANDLER):  # pragma: no cover
                item = _refuse(
                    index, item, Reason.SOURCE_NOT_ALLOWED, "this role may not submit events"
                )
        out.append(item)
    return out


def submit(ledger: Ledger, items: Sequence[Envelope | Refused]) -> list[Outcome]:
    """One :meth:`Ledger.submit` call for the whole request."""
    return ledger.submit(list(items))
