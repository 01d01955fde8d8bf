"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

An 18-character code identifies a market subject:

=========  ===============================================================
position   meaning
=========  ===============================================================
1          registration authority (1, 5, 9, A, N, Y …)
2          entity category
3–8        region (GB/T 2260)
9–16       organisation code body (GB 11714)
17         organisation-code check character (GB 11714, mod 11)
18         check character over positions 1–17 (GB 32100, mod 31)
=========  ===============================================================

Every character comes from :data:`ALPHABET` (no I, O, Z, S, V). This module is
our own implementation: ``stdnum.cn.uscc`` skips the organisation check and
rejects codes that begin with a letter.

Detection guarantee: because 31 is prime and no weight is 0 mod 31, the final
check catches *every* single-character substitution within the alphabet at
positions 1–17; a change at position 18 is caught directly. (The organisation
check alone does not catch substitutions whose values differ by 11, e.g. ``0``
↔ ``B``; the final check does.)
"""

from __future__ import annotations

import re
import uuid
from functools import lru_cache

from events.reasons import InvalidEvent, Reason

__all__ = [
    "ALPHABET",
    "SUBJECT_NAMESPACE",
    "complete_subject_code",
    "final_check_char",
    "org_check_char",
    "subject_stream_id",
    "validate_subject_code",
]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100, in index order (no I, O, Z, S, V)."""

SUBJECT_NAMESPACE = uuid.UUID("6f1c3c8e-6a4e-5b0e-9d8a-2c1e0d6c7a51")
"""The uuid5 namespace of subject stream ids. Never change it: stream ids derive from it."""

_INDEX: dict[str, int] = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
assert tuple(pow(3, i, 31) for i in range(17)) == _WEIGHTS  # 3^(i-1) mod 31
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_FORBIDDEN = "IOZSV"
_LOWER = re.compile(r"[a-z]")


def org_check_char(body: str) -> str:
    """The GB 11714 check character of an 8-character organisation-code body.

    Values are 0–9 for digits and A=10 … Z=35 (the plain alphabet value, not the
    :data:`ALPHABET` index); weights 3,7,9,10,5,8,4,2; check = 11 − (Σ mod 11),
    where 10 is written ``X`` and 11 is written ``0``. ``body`` must be 8
    characters of 0-9A-Z (not checked here).
    """
    total = sum(w * int(c, 36) for w, c in zip(_ORG_WEIGHTS, body, strict=True))
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def final_check_char(first17: str) -> str:
    """The GB 32100 check character (position 18) of the first 17 characters.

    Weights 3^(i−1) mod 31 over the :data:`ALPHABET` indexes; check =
    31 − (Σ mod 31), where 31 is written ``0``. ``first17`` must be 17 characters
    of :data:`ALPHABET` (a ``KeyError`` otherwise).
    """
    total = sum(w * _INDEX[c] for w, c in zip(_WEIGHTS, first17, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate_subject_code(code: str) -> str:
    """Return ``code`` unchanged if it is a valid unified social credit code.

    Raises :class:`~events.reasons.InvalidEvent` with the first failing check,
    in this order: ``CODE_LENGTH`` (not a string of 18 characters),
    ``CODE_LOWERCASE`` (an ASCII lower-case letter; the message gives the
    upper-case form), ``CODE_CHARACTER`` (a character outside :data:`ALPHABET`;
    the message names it and its 1-based position), ``CODE_ORG_CHECK``
    (position 17, GB 11714), ``CODE_CHECK`` (position 18; the message gives the
    expected character). Successful results are cached, so validating the same
    subject again is cheap.
    """
    if not isinstance(code, str):
        raise InvalidEvent(
            Reason.CODE_LENGTH,
            f"subject code must be a string of 18 characters, got {type(code).__name__}",
            length=None,
        )
    if len(code) != 18:
        raise InvalidEvent(
            Reason.CODE_LENGTH,
            f"subject code {code!r} has {len(code)} characters; "
            "a unified social credit code has 18",
            length=len(code),
        )
    _check(code)
    return code


@lru_cache(maxsize=65536)
def _check(code: str) -> None:
    """Checks after the length; cached for valid codes (exceptions are not cached)."""
    if _LOWER.search(code):
        upper = code.upper()
        raise InvalidEvent(
            Reason.CODE_LOWERCASE,
            f"subject code {code!r} contains lower-case letters; codes are upper case: {upper!r}",
            expected=upper,
        )
    for position, char in enumerate(code, start=1):
        if char not in _INDEX:
            if char in _FORBIDDEN:
                what = (
                    f"forbidden letter {char!r} at position {position} "
                    "(codes never use I, O, Z, S or V)"
                )
            else:
                what = (
                    f"character {char!r} at position {position} is not allowed "
                    "(codes use 0-9 and A-H J-N P Q R T U W X Y)"
                )
            raise InvalidEvent(
                Reason.CODE_CHARACTER,
                f"subject code {code!r}: {what}",
                position=position,
                character=char,
            )
    org = org_check_char(code[8:16])
    if code[16] != org:
        raise InvalidEvent(
            Reason.CODE_ORG_CHECK,
            f"subject code {code!r}: organisation-code check character (position 17) "
            f"is {code[16]!r}, expected {org!r} (GB 11714)",
            expected=org,
        )
    final = final_check_char(code[:17])
    if code[17] != final:
        raise InvalidEvent(
            Reason.CODE_CHECK,
            f"subject code {code!r}: check character (position 18) is {code[17]!r}, "
            f"expected {final!r}",
            expected=final,
        )


def complete_subject_code(first16: str) -> str:
    """Append both check characters to the first 16 characters of a code.

    ``first16`` is registration authority and category (2 characters of
    :data:`ALPHABET`), region (6 digits) and the organisation-code body
    (8 characters of :data:`ALPHABET`). Returns the 18-character code, which
    :func:`validate_subject_code` accepts. Raises ``ValueError`` on bad input.
    """
    if not isinstance(first16, str) or len(first16) != 16:
        raise ValueError("complete_subject_code needs exactly 16 characters")
    bad = [c for c in first16 if c not in _INDEX]
    if bad:
        raise ValueError(f"characters outside the code alphabet: {''.join(bad)!r}")
    if not first16[2:8].isdigit():
        raise ValueError(f"region (positions 3-8) must be 6 digits, got {first16[2:8]!r}")
    first17 = first16 + org_check_char(first16[8:16])
    return first17 + final_check_char(first17)


@lru_cache(maxsize=1 << 20)
def subject_stream_id(code: str) -> uuid.UUID:
    """The stream id of a subject: uuid5 of :data:`SUBJECT_NAMESPACE` and the code.

    Deterministic; the caller passes a code it has validated. Cached: the write
    path asks for it several times per event.
    """
    return uuid.uuid5(SUBJECT_NAMESPACE, code)
