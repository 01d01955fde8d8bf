"""``POST /v1/events``: one CloudEvent, a JSON array of them, or JSON lines.

Contract (DESIGN.md "HTTP API (v1)"):

* the door: ``Content-Type`` must be ``application/json``,
  ``application/cloudevents+json``, ``application/cloudevents-batch+json`` (one
  JSON document) or ``application/jsonl`` / ``application/x-ndjson`` (JSON lines),
  else 415 ``unsupported-media-type`` (also when missing); a body over
  ``LEDGER_MAX_BODY_BYTES`` is a 413 ``payload-too-large`` decided from
  ``Content-Length`` or, while streaming, as soon as the limit is passed — never
  after buffering it all;

* one object → 201 ``recorded`` (``Location`` names the subject's history),
  200 ``repeat`` (the same (source, id) with the same content: the first
  recording's result), or a problem: 403 ``source-not-allowed`` /
  ``type-not-allowed``, 409 ``id-reused`` / ``write-conflict``, 400 ``not-json``,
  otherwise 422 with the rejection's reason code;
* an array (or JSON lines) → 200 with one result per element in input order (the
  ``submit --json`` shape), whatever each one's status; an empty array → [];
* the whole request is ONE :meth:`Ledger.submit` call (one round of appends).

Who may submit what — the roles narrow the authority rules of ``commands/``
(``not-authorised``), never widen them: an agency only events whose ``source`` is
its agency code; an objection handler only ``credit.objection.resolved``,
``credit.record.corrected`` and ``credit.record.revoked``, and only under the
agency or platform its token names; a token that names none submits nothing
(``source-not-allowed``); a subject token only its filings (``SUBJECT_TYPES``:
objection, repair request, commitment, registration), as ``subject/<its code>``
and about its own code (``not-own-subject``). What passes is then decided like every other
submission (CLI, Kafka). A refused event is not written; the others of a batch
still are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import orjson
from starlette.requests import ClientDisconnect

from api.auth import HANDLER_TYPES, SUBJECT_TYPES
from api.problems import ProblemError
from api.tokens import Principal, Role
from events.envelope import Envelope, Refused, parse_submission
from events.reasons import Reason, Rejection
from ledger.app import Ledger, Outcome

__all__ = [
    "JSON_LINES_MEDIA_TYPES",
    "JSON_MEDIA_TYPES",
    "MAX_BATCH",
    "MAX_BODY_BYTES",
    "authorise",
    "media_type",
    "parse_body",
    "read_body",
    "submit",
]

MAX_BODY_BYTES = 32 * 1024 * 1024
"""The default largest request body accepted (32 MiB; ``LEDGER_MAX_BODY_BYTES``)."""
MAX_BATCH = 10_000
"""The most events in one request."""
JSON_MEDIA_TYPES = frozenset(
    {"application/json", "application/cloudevents+json", "application/cloudevents-batch+json"}
)
"""One JSON document: a CloudEvent object or an array of them."""
JSON_LINES_MEDIA_TYPES = frozenset({"application/jsonl", "application/x-ndjson"})
"""JSON lines (one CloudEvent a line), always answered as a batch."""


def media_type(content_type: str | None) -> str:
    """The body's media type, lower case, or a 415 ``unsupported-media-type`` problem
    when the ``Content-Type`` is missing or not one of the JSON media types."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in JSON_MEDIA_TYPES or media in JSON_LINES_MEDIA_TYPES:
        return media
    accepted = ", ".join(sorted(JSON_MEDIA_TYPES | JSON_LINES_MEDIA_TYPES))
    said = f"Content-Type {media!r} is not accepted" if media else "Content-Type is missing"
    raise ProblemError(
        415, Reason.UNSUPPORTED_MEDIA_TYPE, f"{said}; send one of: {accepted}", accepted=accepted
    )


def _too_large(limit: int, what: str) -> ProblemError:
    return ProblemError(
        413,
        Reason.PAYLOAD_TOO_LARGE,
        f"the body {what}; at most {limit} bytes are accepted",
        limit=limit,
    )


async def read_body(
    content_length: str | None, chunks: AsyncIterator[bytes], limit: int
) -> bytes:
    """The request body, read from ``chunks`` (the ASGI stream), never holding more
    than ``limit`` bytes: a declared ``Content-Length`` over the limit is a 413 before
    anything is read, and a body that grows past the limit while streaming (chunked
    transfer, or a length that lied) a 413 as soon as it does; the rest is not read.
    An unreadable ``Content-Length`` is a 400 ``invalid-request``."""
    if content_length is not None:
        text = content_length.strip()
        if not text.isdigit() or not text.isascii():
            raise ProblemError(
                400, Reason.INVALID_REQUEST, f"Content-Length {content_length!r} is not a number"
            )
        if int(text) > limit:
            raise _too_large(limit, f"declares {int(text)} bytes (Content-Length)")
    body = bytearray()
    try:
        async for chunk in chunks:
            body += chunk
            if len(body) > limit:
                raise _too_large(limit, f"exceeded {limit} bytes while it was read")
    except ClientDisconnect as e:
        raise ProblemError(
            400, Reason.INVALID_REQUEST, "the client went away before the body ended"
        ) from e
    return bytes(body)


def parse_body(body: bytes, media: str) -> tuple[bool, list[Envelope | Refused]]:
    """(is it a batch, the parsed items) of a body of media type ``media`` (from
    :func:`media_type`). Raises a 4xx :class:`ProblemError` when the request as a
    whole cannot be read: not JSON (400), too many events (413), neither an object nor
    an array (400). JSON lines are a batch whatever their number of lines."""
    if media in JSON_LINES_MEDIA_TYPES:
        items = parse_submission(body)
        _check_batch(len(items))
        return True, items
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise ProblemError(
            400, Reason.NOT_JSON, f"the body is not JSON ({e.msg} at line {e.lineno}, column {e.colno})"
        ) from e
    if isinstance(document, list):
        _check_batch(len(document))
        return True, parse_submission(body)
    if not isinstance(document, dict):
        raise ProblemError(
            400,
            Reason.NOT_AN_OBJECT,
            "the body must be one CloudEvent (a JSON object) or a JSON array of them",
        )
    return False, parse_submission(body)


def _check_batch(size: int) -> None:
    if size > MAX_BATCH:
        raise ProblemError(
            413,
            Reason.PAYLOAD_TOO_LARGE,
            f"the batch has {size} events; at most {MAX_BATCH} per request",
            limit=MAX_BATCH,
        )


def _refuse(index: int, env: Envelope, code: Reason, message: str, **details: str) -> Refused:
    return Refused(index, env.id, env.source, Rejection(code, message, dict(details)))


def authorise(principal: Principal, items: Sequence[Envelope | Refused]) -> list[Envelope | Refused]:
    """The items with those the principal may not submit turned into refusals."""
    out: list[Envelope | Refused] = []
    for index, item in enumerate(items):
        if isinstance(item, Envelope) and principal.role is Role.SUBJECT:
            item = _subject_item(principal, index, item)
        elif isinstance(item, Envelope):
            if principal.agency is None:
                item = _refuse(
                    index,
                    item,
                    Reason.SOURCE_NOT_ALLOWED,
                    f"this {principal.role.value} token names no agency or platform, so it "
                    f"may not submit under any source (not {item.source!r}); a token acts "
                    "only for its own agency (`ledger token add --agency CODE`)",
                    field="source",
                )
            elif item.source != principal.agency:
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


def _subject_item(principal: Principal, index: int, item: Envelope) -> Envelope | Refused:
    """A subject token's event, or its refusal: only its filings, only as
    ``subject/<its code>``, only about its own code."""
    own = f"subject/{principal.subject}"
    if item.source != own:
        return _refuse(
            index,
            item,
            Reason.SOURCE_NOT_ALLOWED,
            f"this subject token may submit only as source {own!r}, not {item.source!r}",
            field="source",
            allowed=own,
        )
    if item.subject != principal.subject:
        return _refuse(
            index,
            item,
            Reason.NOT_OWN_SUBJECT,
            f"{own} files only about itself, not about subject {item.subject}",
            field="subject",
        )
    if item.type not in SUBJECT_TYPES:
        return _refuse(
            index,
            item,
            Reason.TYPE_NOT_ALLOWED,
            f"a subject may not submit {item.type}; only " + ", ".join(sorted(SUBJECT_TYPES)),
            field="type",
        )
    return item


def submit(ledger: Ledger, items: Sequence[Envelope | Refused]) -> list[Outcome]:
    """One :meth:`Ledger.submit` call for the whole request."""
    return ledger.submit(list(items))
