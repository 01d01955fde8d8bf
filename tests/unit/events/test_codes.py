"""Unified social credit codes: validation order, check characters, completion."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.codes import (
    ALPHABET,
    SUBJECT_NAMESPACE,
    complete_subject_code,
    org_check_char,
    subject_stream_id,
    validate_subject_code,
)
from events.reasons import InvalidEvent, Reason

VALID = ["91110000600037341L", "91440300708461136T", "N2110000MA0000007N"]


def reason_of(code: object) -> Reason:
    with pytest.raises(InvalidEvent) as caught:
        validate_subject_code(code)  # type: ignore[arg-type]
    return caught.value.rejection.code


def test_alphabet_is_the_31_characters_without_i_o_z_s_v() -> None:
    assert len(ALPHABET) == 31 == len(set(ALPHABET))
    assert not set("IOZSV") & set(ALPHABET)


@pytest.mark.parametrize("code", VALID)
def test_valid_examples_are_returned_unchanged(code: str) -> None:
    assert validate_subject_code(code) == code


@pytest.mark.parametrize("code", VALID)
def test_completion_reproduces_the_examples(code: str) -> None:
    assert complete_subject_code(code[:16]) == code


def test_wrong_check_character_names_the_expected_one() -> None:
    with pytest.raises(InvalidEvent) as caught:
        validate_subject_code("91440300708461136A")
    rejection = caught.value.rejection
    assert rejection.code == Reason.CODE_CHECK
    assert "'T'" in rejection.message and "position 18" in rejection.message
    assert rejection.details["expected"] == "T"


@pytest.mark.parametrize("letter", list("IOZSV"))
@pytest.mark.parametrize("position", [1, 5, 12, 18])
def test_forbidden_letters_are_named_with_their_position(letter: str, position: int) -> None:
    code = VALID[1][: position - 1] + letter + VALID[1][position:]
    with pytest.raises(InvalidEvent) as caught:
        validate_subject_code(code)
    rejection = caught.value.rejection
    assert rejection.code == Reason.CODE_CHARACTER
    assert f"forbidden letter {letter!r} at position {position}" in rejection.message
    assert rejection.details == {"position": position, "character": letter}


@pytest.mark.parametrize("char", ["-", " ", "中", "Ｏ"])
def test_other_characters_are_refused(char: str) -> None:
    code = VALID[0][:3] + char + VALID[0][4:]
    assert reason_of(code) == Reason.CODE_CHARACTER


def test_lowercase_suggests_the_upper_case_form() -> None:
    with pytest.raises(InvalidEvent) as caught:
        validate_subject_code("n2110000ma0000007n")
    rejection = caught.value.rejection
    assert rejection.code == Reason.CODE_LOWERCASE
    assert "N2110000MA0000007N" in rejection.message


@pytest.mark.parametrize(
    "code", ["", "9144030070846113", "91440300708461136", "91440300708461136TX"]
)
def test_wrong_length(code: str) -> None:
    assert reason_of(code) == Reason.CODE_LENGTH


@pytest.mark.parametrize("code", [None, 91440300708461136, ["91440300708461136T"]])
def test_non_strings_are_a_length_error(code: object) -> None:
    assert reason_of(code) == Reason.CODE_LENGTH


def test_wrong_organisation_check_is_caught_even_when_the_final_check_fits() -> None:
    code = VALID[1]
    wrong_org = "5" if code[16] != "5" else "7"
    first17 = code[:16] + wrong_org
    # Recompute position 18 so that only the organisation check is wrong.
    rebuilt = next(first17 + c for c in ALPHABET if _final_ok(first17 + c))
    with pytest.raises(InvalidEvent) as caught:
        validate_subject_code(rebuilt)
    assert caught.value.rejection.code == Reason.CODE_ORG_CHECK
    assert caught.value.rejection.details["expected"] == code[16]
    assert "position 17" in caught.value.rejection.message


def _final_ok(code: str) -> bool:
    try:
        validate_subject_code(code)
    except InvalidEvent as e:
        return e.rejection.code != Reason.CODE_CHECK
    return True


def test_order_of_checks() -> None:
    assert reason_of("o2110000ma0000007") == Reason.CODE_LENGTH
    assert reason_of("o2110000ma0000007n") == Reason.CODE_LOWERCASE
    assert reason_of("O2110000MA0000006N") == Reason.CODE_CHARACTER
    assert reason_of("N2110000MA0000006X") == Reason.CODE_ORG_CHECK


def test_codes_beginning_with_letters_are_accepted() -> None:
    for first in "ANY":
        code = complete_subject_code(first + "1" + "110000" + "MA00000A")
        assert validate_subject_code(code) == code


def test_organisation_check_values_10_and_11() -> None:
    assert org_check_char("00000000") == "0"  # 11 - 0 % 11 = 11 → '0'
    assert org_check_char("MA000000") == "7"  # 11 - (22*3 + 10*7) % 11 = 7
    bodies = (f"{n:08d}" for n in range(100))
    body = next(b for b in bodies if org_check_char(b) == "X")
    code = complete_subject_code("91440300" + body)
    assert code[16] == "X"
    assert validate_subject_code(code) == code


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "914403007084611",
        "91440300708461136T",
        "9144030070846I13",
        "91A4030070846113",
        "914403007084611a",
    ],
)
def test_complete_refuses_bad_input(bad: str) -> None:
    with pytest.raises(ValueError):
        complete_subject_code(bad)


def test_stream_id_is_uuid5_of_the_namespace() -> None:
    sid = subject_stream_id(VALID[1])
    assert sid == uuid.uuid5(SUBJECT_NAMESPACE, VALID[1])
    assert sid.version == 5
    assert subject_stream_id(VALID[1]) == sid != subject_stream_id(VALID[0])


# -- properties ------------------------------------------------------------------------

alphabet_char = st.sampled_from(ALPHABET)
digit = st.sampled_from("0123456789")
first16 = st.tuples(
    st.lists(alphabet_char, min_size=2, max_size=2),
    st.lists(digit, min_size=6, max_size=6),
    st.lists(alphabet_char, min_size=8, max_size=8),
).map(lambda parts: "".join("".join(p) for p in parts))


@given(first16)
def test_completed_codes_are_valid(prefix: str) -> None:
    code = complete_subject_code(prefix)
    assert len(code) == 18 and code.startswith(prefix)
    assert validate_subject_code(code) == code


@given(first16, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=30))
def test_every_single_substitution_is_caught(prefix: str, index: int, shift: int) -> None:
    code = complete_subject_code(prefix)
    replacement = ALPHABET[(ALPHABET.index(code[index]) + shift) % 31]
    changed = code[:index] + replacement + code[index + 1 :]
    reason = reason_of(changed)
    if index < 8 or index == 17:
        assert reason == Reason.CODE_CHECK  # the organisation code is untouched
    elif index == 16:
        assert reason == Reason.CODE_ORG_CHECK
    else:
        assert reason in (Reason.CODE_ORG_CHECK, Reason.CODE_CHECK)


@pytest.mark.parametrize("code", VALID)
def test_every_single_substitution_of_the_examples_is_caught(code: str) -> None:
    for index in range(18):
        for replacement in ALPHABET:
            if replacement != code[index]:
                changed = code[:index] + replacement + code[index + 1 :]
                assert reason_of(changed) in (Reason.CODE_ORG_CHECK, Reason.CODE_CHECK)


def test_organisation_check_alone_misses_differences_of_11() -> None:
    """Why the final check matters: '0' → 'B' (value 11) keeps the GB 11714 check."""
    code = VALID[1]  # organisation body 70846113
    index = next(i for i in range(8, 16) if code[i] == "0")
    changed = code[:index] + "B" + code[index + 1 :]
    assert org_check_char(changed[8:16]) == code[16]
    assert reason_of(changed) == Reason.CODE_CHECK
