"""Reason codes: the one enumeration of why the ledger refuses something.

The CLI (`submit --json`), the HTTP API (RFC 9457 problem details, field `code`)
and the Kafka dead-letter headers all carry these strings. A code never changes
meaning once released; new reasons get new codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Reason(StrEnum):
    """Stable, machine-readable reason codes (kebab-case strings)."""

    # -- the envelope and its bytes ------------------------------------------------
    NOT_JSON = "not-json"
    """The input is not parseable JSON (or a JSON line is not)."""
    NOT_AN_OBJECT = "not-an-object"
    """A submitted item is JSON but not a JSON object."""
    SPECVERSION = "unsupported-specversion"
    """`specversion` is missing or not "1.0"."""
    MISSING_ATTRIBUTE = "missing-attribute"
    """A required CloudEvents attribute (id, source, type, subject, time, data) is missing."""
    INVALID_ATTRIBUTE = "invalid-attribute"
    """A CloudEvents attribute has the wrong JSON type or an empty value."""
    CONTENT_TYPE = "unsupported-content-type"
    """`datacontenttype` is present and not application/json."""
    UNKNOWN_TYPE = "unknown-type"
    """`type` is not in the vocabulary (DOMAIN.md)."""
    INVALID_TIME = "invalid-time"
    """`time` is not an RFC 3339 date-time with an offset."""
    DATE_OUT_OF_RANGE = "date-out-of-range"
    """A `time`, a date field of `data` (or of its `changes`) or a query instant (`as_of`,
    `known_at`) lies outside the dates the ledger accepts (1949-10-01 … 2199-12-31 by default,
    DOMAIN.md); an indefinite period is null, never a far-future date."""
    TIME_IN_FUTURE = "time-in-future"
    """`time` is later than the moment the ledger records the event (beyond clock skew)."""
    DATA_TOO_LARGE = "data-too-large"
    """`data` serialises to more than the size limit (64 KiB)."""
    FLOAT_NOT_ALLOWED = "float-not-allowed"
    """A JSON number with a fraction or exponent appears in `data`; money is a decimal string."""
    CONTROL_CHARACTER = "control-character"
    """A string or key in `data` holds a control character (C0 other than tab, line feed and
    carriage return; DEL; C1) or a Unicode noncharacter (U+FFFE, U+FFFF, …)."""

    # -- the subject code ----------------------------------------------------------
    CODE_LENGTH = "subject-code-length"
    """The unified social credit code is not 18 characters long."""
    CODE_LOWERCASE = "subject-code-lowercase"
    """The code contains lowercase letters (codes are upper case)."""
    CODE_CHARACTER = "subject-code-character"
    """The code contains a character outside 0-9A-HJ-NPQRTUWXY (e.g. I, O, Z, S, V)."""
    CODE_ORG_CHECK = "subject-code-organisation-check"
    """The organisation-code check character (position 17) is wrong (GB 11714)."""
    CODE_CHECK = "subject-code-check"
    """The final check character (position 18) is wrong (GB 32100)."""

    # -- the data of a type --------------------------------------------------------
    MISSING_FIELD = "missing-field"
    """A field the event type requires in `data` is missing."""
    INVALID_FIELD = "invalid-field"
    """A field in `data` has the wrong type, format or value."""

    # -- idempotency ---------------------------------------------------------------
    ID_REUSED = "id-reused"
    """The (source, id) was already recorded with different content."""

    # -- structural and workflow rules (commands/) ---------------------------------
    UNKNOWN_REFERENCE = "unknown-reference"
    """A reference (`ref` field) names no earlier event in this subject's stream."""
    WRONG_REFERENCE_TYPE = "wrong-reference-type"
    """A reference names an event of a type the field may not point at."""
    REFERENCE_DATED_LATER = "reference-dated-later"
    """A reference names an event whose valid time (`time`) is later than this event's own
    (e.g. an objection dated before the record it objects to); the same instant is allowed."""
    TARGET_REVOKED = "target-revoked"
    """The referenced record was revoked; it can no longer be repaired, objected to or corrected."""
    WRONG_AGENCY = "wrong-agency"
    """Only the agency that made the finding may do this (谁认定、谁约谈)."""
    NOT_AUTHORISED = "not-authorised"
    """The `source` may not record this act (DOMAIN.md "Who may record what"); the message
    names the responsible agency (谁认定、谁负责)."""
    SOURCE_NOT_ALLOWED = "source-not-allowed"
    """The authenticated principal may not submit events for this `source`."""
    OUT_OF_ORDER = "out-of-order"
    """The lifecycle step does not follow from the state (e.g. resolving an objection twice)."""
    REPAIR_TOO_EARLY = "repair-too-early"
    """Repair requested before the minimum disclosure period has passed."""
    REPAIR_OBLIGATIONS = "repair-obligations-unmet"
    """Repair requested before the obligations (rectification, repair commitment) are met."""
    NO_RULE_SET = "no-rule-set"
    """No disclosure rule set is in force on the record's valid date."""
    CALENDAR_UNKNOWN = "calendar-unknown"
    """A working-day computation needs a year whose official calendar is not loaded."""
    REPAIR_NOT_APPLICABLE = "repair-not-applicable"
    """Repair requested for a record that is not disclosed (e.g. a minor penalty under Order 36)."""
    DESIGNATION_TOO_EARLY = "designation-too-early"
    """A list designation before the proposal's notice and objection window has closed."""
    PERSON_ERASED = "person-erased"
    """No longer issued (kept so the code never changes meaning): a link of an erased
    person's number now starts a fresh key (DOMAIN.md, Clarifications, Personal data)."""

    # -- the criteria of the serious acts (commands/workflows/criteria.py) -----------
    NOT_MINOR = "not-minor"
    """A penalty claims severity `minor` outside the rule set's minor definition (procedure,
    penalty kinds, fine limit for a person or an organisation)."""
    LISTING_GROUNDS = "listing-grounds"
    """A list proposal rests on a finding the list may not rest on (serious-dishonesty needs a
    serious finding or a court's 失信被执行人 finding; focus a general or serious one)."""
    PLANNED_END_TOO_LATE = "planned-end-too-late"
    """A list proposal's `planned_end` is later than the rule set's bound for the list and region."""
    OPEN_ENDED_NOT_ALLOWED = "open-ended-not-allowed"
    """A list proposal without `planned_end` whose basis is not one the rule set allows it for."""
    PERMANENT_BAN_NOT_ALLOWED = "permanent-ban-not-allowed"
    """A permanent ban (`until: null`) whose basis is not one the rule set names as allowing it."""
    REPAIR_METHODS = "repair-methods"
    """A repair request misses a method the rule set requires for that kind of record, or names
    one it does not allow."""
    UNKNOWN_MEASURE = "unknown-measure"
    """`data.measure` is not a code of the measures list (惩戒措施清单)."""
    DUPLICATE_MEASURE = "duplicate-measure"
    """The same measure is already applied, and not lifted, on the same finding."""

    # -- the store -----------------------------------------------------------------
    CONFLICT = "write-conflict"
    """Concurrent writers kept conflicting beyond the retry bound; submit again."""
    BEHIND_PUBLISHED = "behind-published-checkpoint"
    """The store holds fewer records than a checkpoint published in the checkpoint log (records
    were removed, or an older backup was restored): no checkpoint is signed until it holds them."""
    FORKS_PUBLISHED = "forks-published-checkpoint"
    """The store's tree is not consistent with a checkpoint published in the checkpoint log
    (history was rewritten, or this is another ledger): no checkpoint is signed."""

    # -- the HTTP API (api/) -------------------------------------------------------
    TYPE_NOT_ALLOWED = "type-not-allowed"
    """The authenticated principal's role may not submit events of this `type`."""
    UNAUTHENTICATED = "unauthenticated"
    """A bearer token is required and none, or an unknown or revoked one, was given."""
    ROLE_NOT_ALLOWED = "role-not-allowed"
    """The authenticated principal's role may not use this endpoint."""
    UNKNOWN_SUBJECT = "unknown-subject"
    """A valid subject code with no records in the ledger (at the asked moment)."""
    UNKNOWN_LIST = "unknown-list"
    """The named public list does not exist."""
    NOT_OWN_SUBJECT = "not-own-subject"
    """A subject's token asked about, or filed for, another subject: a subject sees and files
    only about its own code."""
    INVALID_CURSOR = "invalid-cursor"
    """`cursor` is not one this endpoint handed out for the same query (paging: pass `next` back
    unchanged, with the same other parameters)."""
    LIMIT_OUT_OF_RANGE = "limit-out-of-range"
    """`limit` is not a whole number between 1 and the endpoint's maximum page size."""
    INVALID_INSTANT = "invalid-instant"
    """`as_of` or `known_at` is neither an RFC 3339 date-time with offset nor a date."""
    INVALID_REQUEST = "invalid-request"
    """The request's parameters or body do not match the endpoint's contract."""
    NOT_FOUND = "not-found"
    """No such resource or endpoint."""
    METHOD_NOT_ALLOWED = "method-not-allowed"
    """The endpoint exists but not with this HTTP method."""
    PAYLOAD_TOO_LARGE = "payload-too-large"
    """The request body, or the number of events in a batch, exceeds the limit."""
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
    """The request body's Content-Type is not JSON (application/json or CloudEvents JSON)."""
    UNAVAILABLE = "unavailable"
    """A dependency (database, projections) is not ready; retry later."""
    INTERNAL = "internal-error"
    """An unexpected failure inside the ledger; nothing was written unless the response says so."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one submitted event was refused. Nothing of it was written."""

    code: Reason
    message: str
    """One line a person understands; names the field or value at fault."""
    details: dict[str, Any] = field(default_factory=dict)
    """Machine-readable extras (field name, earliest date, expected value …)."""

    def to_json(self) -> dict[str, Any]:
        return {"code": str(self.code), "message": self.message, **self.details}


class InvalidEvent(ValueError):
    """Raised by parsers and validators; carries the rejection it stands for."""

    def __init__(self, code: Reason, message: str, **details: Any) -> None:
        super().__init__(message)
        self.rejection = Rejection(code, message, details)
