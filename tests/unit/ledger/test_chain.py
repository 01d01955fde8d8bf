"""Tests of ledger.chain: canonical bytes (RFC 8785 equivalence inside our domain) and the
record bytes/hash of AUDIT-FORMAT.md."""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import chain
from ledger.chain import (
    FORMAT,
    GENESIS,
    MAX_SAFE_INT,
    RECORD_KEYS,
    CanonicalError,
    canonical,
    record_bytes,
    record_dict,
    record_hash,
    record_hash_bytes,
)


def py_canon(x: object) -> bytes:
    """The serialisation AUDIT-FORMAT.md gives outside verifiers."""
    return json.dumps(x, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def jcs_ref(x: object) -> bytes:
    """A small RFC 8785 reference for float-free values: keys sorted by UTF-16 code units
    (§3.2.3), strings escaped as ECMAScript JSON.stringify does (§3.2.2.2), which for
    well-formed strings is what Python's json module does with ensure_ascii=False."""

    def ser(v: object) -> str:
        if v is None or isinstance(v, (bool, int)):
            return json.dumps(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ",".join(ser(i) for i in v) + "]"
        if isinstance(v, dict):
            keys = sorted(v, key=lambda k: k.encode("utf-16-be"))
            return "{" + ",".join(ser(k) + ":" + ser(v[k]) for k in keys) + "}"
        raise TypeError(type(v))

    return ser(x).encode()


# ---- strategies -----------------------------------------------------------------------------

INTERESTING = (
    [chr(c) for c in range(0x20)]
    + ['"', "\\", "/", "\x7f", "\x80", "\xa0", "\xff", "\u2028", "\u2029", "\ufeff", "\uffff"]
    + ["中", "国", "信", "用", "〔", "〕", "（", "）", "¥", "€", "é", "ß", "Ω", "ж", "ع", "ह"]
    + ["\ue000", "\uff61", "\ufffd", "😀", "🀄", "𠀀", "\U0010ffff", "\U0001f1e8", "\U0001f1f3"]
)

any_text = st.one_of(
    st.text(st.characters(codec="utf-8")),  # all of Unicode except surrogates
    st.text(alphabet=st.sampled_from(INTERESTING)),
    st.text(alphabet=st.characters(max_codepoint=0x7F)),
)
key_text = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0xFFFF)),
    st.text(alphabet=st.sampled_from([c for c in INTERESTING if ord(c) <= 0xFFFF])),
)
safe_ints = st.one_of(
    st.integers(-MAX_SAFE_INT, MAX_SAFE_INT),
    st.sampled_from([0, -1, 1, MAX_SAFE_INT, -MAX_SAFE_INT, 2**31, -(2**31), 2**32, 10**15]),
)
scalars = st.one_of(st.none(), st.booleans(), safe_ints, any_text)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(key_text, children, max_size=6),
    ),
    max_leaves=40,
)
json_objects = st.dictionaries(key_text, json_values, max_size=8)


# ---- canonical --------------------------------------------------------------------------------


@settings(max_examples=600, deadline=None)
@given(json_values)
def test_canonical_equals_python_json_and_jcs(x: object) -> None:
    out = canonical(x)
    assert out == py_canon(x)
    assert out == jcs_ref(x)
    assert json.loads(out) == x


@settings(max_examples=300)
@given(st.dictionaries(key_text, st.none(), min_size=2, max_size=12))
def test_key_order_agrees_for_bmp_keys(d: dict[str, None]) -> None:
    assert canonical(d) == py_canon(d) == jcs_ref(d)


def test_string_escapes() -> None:
    s = "".join(chr(c) for c in range(0x20)) + '"\\/\x7f\u2028\u2029中😀'
    expected = (
        '"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r'
        "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018"
        '\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\"\\\\/\x7f\u2028\u2029中😀"'
    ).encode()
    assert canonical(s) == expected == py_canon(s) == jcs_ref(s)


def test_astral_keys_are_where_jcs_and_code_point_order_differ() -> None:
    # U+FF61 < U+1F600 as code points, but as UTF-16 0xFF61 > 0xD83D (high surrogate).
    d = {"\uff61": 1, "\U0001f600": 2}
    assert py_canon(d) == '{"｡":1,"😀":2}'.encode()
    assert jcs_ref(d) == '{"😀":2,"｡":1}'.encode()
    with pytest.raises(CanonicalError, match="above U\\+FFFF"):
        canonical(d)
    # any astral character in any key is refused, even where no sibling makes it ambiguous
    for bad in [{"😀": 1}, {"a": {"x😀y": None}}, [{"\U00010000": 0}]]:
        with pytest.raises(CanonicalError):
            canonical(bad)
    # astral characters in values are fine and agree everywhere
    v = {"a": "😀", "\uffff": ["𠀀"]}
    assert canonical(v) == py_canon(v) == jcs_ref(v)


@pytest.mark.parametrize(
    "bad",
    [
        1.0,
        0.5,
        float("nan"),
        float("inf"),
        {"amount": 12.5},
        [1, [2, [3.0]]],
        MAX_SAFE_INT + 1,
        -MAX_SAFE_INT - 1,
        2**64,
        {1: "int key"},
        {None: "None key"},
        {(1, 2): "tuple key"},
        (1, 2),
        {1, 2},
        b"bytes",
        dt.datetime(2024, 1, 1),
        dt.date(2024, 1, 1),
        object(),
        "\ud800",
        {"k": "lone \udfff surrogate"},
        {"\ud800": 1},
    ],
)
def test_canonical_rejects_values_outside_the_domain(bad: object) -> None:
    with pytest.raises(CanonicalError):
        canonical(bad)
    assert issubclass(CanonicalError, ValueError)


wild_scalars = st.one_of(
    scalars,
    st.floats(allow_nan=True),
    st.integers(),
    st.sampled_from([MAX_SAFE_INT + 1, -MAX_SAFE_INT - 1, b"x", (1,), dt.date(2024, 1, 1)]),
)
wild_values = st.recursive(
    wild_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(key_text, any_text, st.integers()), children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(wild_values)
def test_fast_and_explaining_domain_checks_agree(x: object) -> None:
    try:
        chain._check(x, "$")
        explained_ok = True
    except CanonicalError:
        explained_ok = False
    assert chain._ok(x) == explained_ok
    if explained_ok:
        assert canonical(x) == py_canon(x)
    else:
        with pytest.raises(CanonicalError):
            canonical(x)


def test_canonical_rejects_subclasses() -> None:
    class Color(enum.IntEnum):
        RED = 1

    class S(str):
        pass

    for bad in [Color.RED, {"a": Color.RED}, S("x"), {"a": [S("x")]}]:
        with pytest.raises(CanonicalError):
            canonical(bad)


def test_canonical_rejects_excessive_nesting() -> None:
    deep: list[Any] = []
    for _ in range(300):
        deep = [deep]
    with pytest.raises(CanonicalError):
        canonical(deep)
    for _ in range(3000):
        deep = [deep]
    with pytest.raises(CanonicalError):
        canonical(deep)


def test_canonical_integer_bounds() -> None:
    assert canonical(MAX_SAFE_INT) == b"9007199254740991"
    assert canonical(-MAX_SAFE_INT) == b"-9007199254740991"
    assert canonical([True, False, None, 0, -0]) == b"[true,false,null,0,0]"


# ---- records ----------------------------------------------------------------------------------

hex64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
record_kwargs = st.fixed_dictionaries(
    {
        "subject": any_text,
        "seq": st.integers(1, MAX_SAFE_INT),
        "position": st.integers(0, MAX_SAFE_INT),
        "id": any_text,
        "source": any_text,
        "type": any_text,
        "time": any_text,
        "recorded_us": st.integers(0, MAX_SAFE_INT),
        "data": json_objects,
        "prev": st.one_of(hex64, st.just(GENESIS)),
    }
)


@contextlib.contextmanager
def without_fragment() -> Iterator[None]:
    """Run record_bytes on its orjson < 3.10 path (no orjson.Fragment)."""
    saved = chain._Fragment
    chain._Fragment = None
    try:
        yield
    finally:
        chain._Fragment = saved


@settings(max_examples=300, deadline=None)
@given(record_kwargs, st.booleans())
def test_record_bytes_equals_canonical_record_dict(kw: dict[str, Any], old_orjson: bool) -> None:
    data = kw.pop("data")
    with without_fragment() if old_orjson else contextlib.nullcontext():
        fast = record_bytes(**kw, data_canonical=canonical(data))
    d = record_dict(**kw, data=data)
    assert fast == canonical(d) == py_canon(d) == jcs_ref(d)
    assert list(d) == list(RECORD_KEYS)
    assert record_hash(fast) == hashlib.sha256(py_canon(d)).hexdigest()
    assert record_hash_bytes(fast) == bytes.fromhex(record_hash(fast))


EXAMPLE = {
    "subject": "91110000100000000X",
    "seq": 2,
    "position": 41,
    "id": "evt-7f8e",
    "source": "/gov/tax/beijing",
    "type": "cn.gov.credit.penalty.recorded",
    "time": "2024-05-01T08:00:00Z",
    "recorded_us": 1714550400123456,
    "prev": GENESIS,
}
EXAMPLE_DATA = {"case_no": "京税罚〔2024〕123号", "amount": "1234.50", "items": [1, "二"]}


def test_record_bytes_golden() -> None:
    """Pins the exact bytes (sorted keys, no whitespace, raw UTF-8) of one record."""
    expected = (
        '{"data":{"amount":"1234.50","case_no":"京税罚〔2024〕123号","items":[1,"二"]},'
        '"format":1,"id":"evt-7f8e","position":41,'
        '"prev":"0000000000000000000000000000000000000000000000000000000000000000",'
        '"recorded_us":1714550400123456,"seq":2,"source":"/gov/tax/beijing",'
        '"subject":"91110000100000000X","time":"2024-05-01T08:00:00Z",'
        '"type":"cn.gov.credit.penalty.recorded"}'
    ).encode()
    got = record_bytes(**EXAMPLE, data_canonical=canonical(EXAMPLE_DATA))  # type: ignore[arg-type]
    assert got == expected
    with without_fragment():
        old = record_bytes(**EXAMPLE, data_canonical=canonical(EXAMPLE_DATA))  # type: ignore[arg-type]
    assert old == expected
    assert record_hash(got) == hashlib.sha256(expected).hexdigest()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", True),
        ("seq", 2.0),
        ("seq", "2"),
        ("position", MAX_SAFE_INT + 1),
        ("position", None),
        ("recorded_us", -MAX_SAFE_INT - 1),
        ("recorded_us", 1.5),
        ("subject", 1),
        ("subject", None),
        ("id", b"evt"),
        ("type", "bad \ud800"),
        ("time", 0),
        ("source", ["x"]),
        ("prev", None),
    ],
)
def test_record_bytes_rejects_bad_fields(field: str, value: object) -> None:
    kw: dict[str, Any] = {**EXAMPLE, field: value}
    with pytest.raises(CanonicalError, match=field):
        record_bytes(**kw, data_canonical=canonical(EXAMPLE_DATA))
    with without_fragment(), pytest.raises(CanonicalError, match=field):
        record_bytes(**kw, data_canonical=canonical(EXAMPLE_DATA))


def test_constants() -> None:
    assert GENESIS == "0" * 64
    assert FORMAT == 1
    assert MAX_SAFE_INT == 2**53 - 1
    assert RECORD_KEYS == (
        "format",
        "subject",
        "seq",
        "position",
        "id",
        "source",
        "type",
        "time",
        "recorded_us",
        "data",
        "prev",
    )
    for name in chain.__all__:
        assert hasattr(chain, name)
