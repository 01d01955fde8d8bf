"""The field types event `data` is built from (pydantic 2 annotated types).

Each type validates strictly (no coercion) and carries its own JSON Schema.
:data:`PATTERN_EXPECTATIONS` turns a pattern failure back into words for error
messages (see :mod:`events.errors`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from events.dates import date_range

__all__ = [
    "DATE_OUT_OF_RANGE_ERROR",
    "DATE_PATTERN",
    "MONEY_PATTERN",
    "NONBLANK_PATTERN",
    "PATTERN_EXPECTATIONS",
    "RATIO_PATTERN",
    "REF_MAX_LENGTH",
    "Changes",
    "CommitmentType",
    "Date",
    "ListName",
    "Money",
    "NonBlank",
    "PenaltyKind",
    "PenaltyKinds",
    "Procedure",
    "Ratio",
    "Ref",
    "RepairMethod",
    "RepairMethods",
    "Severity",
]

DATE_OUT_OF_RANGE_ERROR = "date_out_of_range"
"""The pydantic error type of a real date outside the accepted range (see events.errors)."""
NONBLANK_PATTERN = r"\S"
"""A string with at least one non-whitespace character (searched, not anchored)."""
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MONEY_PATTERN = r"^(0|[1-9][0-9]{0,14})(\.[0-9]{1,2})?$"
RATIO_PATTERN = r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$"
REF_MAX_LENGTH = 200
"""A reference holds a CloudEvents id, which the envelope limits to 200 characters."""

PATTERN_EXPECTATIONS: dict[str, str] = {
    NONBLANK_PATTERN: "a non-blank string",
    DATE_PATTERN: "a date YYYY-MM-DD",
    MONEY_PATTERN: (
        'a decimal string in yuan such as "3000.00" (no sign, no leading zeros, at most 2 decimals)'
    ),
    RATIO_PATTERN: 'a decimal string between 0 and 1 such as "0.30" (at most 4 decimals)',
}
"""Pattern → what a person should have sent (used in error messages)."""


def _real_date(value: str) -> str:
    """Accept a YYYY-MM-DD string only if it names a real calendar day within the
    accepted range (:mod:`events.dates`; refused as ``date_out_of_range``)."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise PydanticCustomError("date_not_real", "a real calendar date YYYY-MM-DD") from None
    if not date_range().contains_day(day):
        raise PydanticCustomError(DATE_OUT_OF_RANGE_ERROR, "a date within the accepted range")
    return value


def _unique(value: list[Any]) -> list[Any]:
    """Reject lists that repeat an entry (entries are hashable literals here)."""
    if len(set(value)) != len(value):
        raise PydanticCustomError("list_not_unique", "an array without repeated entries")
    return value


NonBlank = Annotated[str, StringConstraints(min_length=1, pattern=NONBLANK_PATTERN)]
"""A non-empty string with at least one non-whitespace character."""

Ref = Annotated[
    str,
    StringConstraints(min_length=1, max_length=REF_MAX_LENGTH, pattern=NONBLANK_PATTERN),
    Field(description="The CloudEvents `id` of an earlier event of the same subject."),
]
"""A reference: the CloudEvents id of an earlier event of the same subject."""

Date = Annotated[
    str,
    StringConstraints(pattern=DATE_PATTERN),
    AfterValidator(_real_date),
    Field(json_schema_extra={"format": "date"}),
]
"""A calendar date written YYYY-MM-DD (a string; it must be a real day)."""

Money = Annotated[
    str,
    StringConstraints(pattern=MONEY_PATTERN),
    Field(description='An amount in yuan as a decimal string, e.g. "3000.00"; never a number.'),
]
"""Yuan as a decimal string: up to 15 integer digits, up to 2 decimals."""

Ratio = Annotated[
    str,
    StringConstraints(pattern=RATIO_PATTERN),
    Field(description='A share between 0 and 1 as a decimal string, e.g. "0.30"; never a number.'),
]
"""A ratio as a decimal string in [0, 1] with at most 4 decimals."""

Changes = Annotated[
    dict[str, Any],
    Field(min_length=1, description="The corrected `data` fields and their new values."),
]

CommitmentType = Literal["approval-substitute", "voluntary", "industry", "repair"]
Severity = Literal["minor", "general", "serious"]
PenaltyKind = Literal[
    "warning",
    "criticism",
    "fine",
    "confiscation",
    "suspension",
    "revocation",
    "restriction",
    "detention",
]
Procedure = Literal["simplified", "ordinary"]
ListName = Literal["serious-dishonesty", "focus"]
RepairMethod = Literal[
    "commitment", "rectification", "verification", "training", "report", "charity"
]


PenaltyKinds = Annotated[
    list[PenaltyKind],
    Field(min_length=1, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_unique),
]
"""A non-empty list of penalty kinds without repeats."""

RepairMethods = Annotated[
    list[RepairMethod],
    Field(min_length=1, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_unique),
]
"""A non-empty list of repair methods without repeats."""
