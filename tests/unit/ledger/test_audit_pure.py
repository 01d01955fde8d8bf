"""The pure parts of ledger.audit: the heads tree, the key file, the verifier's record hash
and its segment tree (which must agree with ledger.chain and ledger.merkle exactly)."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import random
import stat
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.codes import subject_stream_id
from ledger import chain, merkle
from ledger.audit import record_checks, segments, stitching, verify, verify_outcome
from ledger.audit.checkpoints import Checkpoint, head_leaf_data, head_leaf_hash, heads_tree
from ledger.audit.keys import KeyFileError, load_or_create_key, public_key_b64, public_key_bytes

# ---- heads tree --------------------------------------------------------------------------


def _heads(n: int, seed: int = 1) -> list[tuple[str, int, bytes]]:
    rng = random.Random(seed)
    subjects = sorted({f"9144030{rng.randrange(10**10):010d}X" for _ in range(n)})
    return [(s, rng.randint(1, 500), rng.randbytes(32)) for s in subjects]


def test_head_leaf_data_is_canonical() -> None:
    h = bytes(range(32))
    for subject, seq in [("91440300708461136T", 1), ("12100000400000624D", 2**53 - 1)]:
        data = head_leaf_data(subject, seq, h)
        assert data == chain.canonical({"subject": subject, "seq": seq, "hash": h.hex()})
        assert head_leaf_hash(subject, seq, h) == merkle.leaf_hash(data)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 63, 64, 65, 127, 128, 129, 300])
def test_heads_tree_matches_merkle(n: int) -> None:
    heads = _heads(n)
    leaves = [head_leaf_hash(*h) for h in heads]
    root, nodes = heads_tree(heads, min_level=6)
    assert root == merkle.root(leaves)
    created, _ = merkle.append(0, {}, leaves)
    assert sorted(nodes) == sorted((lvl, i, h) for lvl, i, h in created if lvl >= 6)


# ---- checkpoint object ------------------------------------------------------------------


def test_checkpoint_signs_canonical_body() -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    cp = Checkpoint.sign(
        key, origin="o", size=3, root=b"\x01" * 32, issued_us=5, heads_root=b"\x02" * 32
    )
    body = {"origin": "o", "size": 3, "root": "01" * 32, "issued_us": 5, "heads_root": "02" * 32}
    assert cp.signed_bytes() == chain.canonical(body)
    assert cp.to_json() == {**body, "signature": cp.signature}
    assert cp.verify_signature(public_key_bytes(key))
    assert not cp.verify_signature(public_key_bytes(Ed25519PrivateKey.generate()))
    assert Checkpoint.from_stored(cp.signed_bytes(), cp.signature_bytes()) == cp


# ---- key file -----------------------------------------------------------------------------


def test_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "signing.key"
    err = io.StringIO()
    key = load_or_create_key(path, stderr=err)
    assert str(path.resolve()) in err.getvalue() and public_key_b64(key) in err.getvalue()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_bytes().strip()) == 44  # base64 of 32 bytes
    err2 = io.StringIO()
    again = load_or_create_key(path, stderr=err2)
    assert public_key_bytes(again) == public_key_bytes(key)
    assert err2.getvalue() == ""
    assert len(public_key_bytes(key)) == 32


def test_bad_key_files(tmp_path: Path) -> None:
    path = tmp_path / "k"
    for content in [b"", b"not base64!", b"AAAA", b"\xff\xfe"]:
        path.write_bytes(content)
        os.chmod(path, 0o600)
        with pytest.raises(KeyFileError, match=str(path)):
            load_or_create_key(path, stderr=io.StringIO())
    load_or_create_key(tmp_path / "ok", stderr=io.StringIO())
    os.chmod(tmp_path / "ok", 0o644)
    err = io.StringIO()
    load_or_create_key(tmp_path / "ok", stderr=err)
    assert "readable by group or others" in err.getvalue()


# ---- the verifier's record hash and stream id --------------------------------------------

_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
_key = st.text(st.characters(exclude_categories=["Cs"], max_codepoint=0xFFFF), max_size=8)
_int = st.integers(-(2**53) + 1, 2**53 - 1)


@settings(max_examples=300, deadline=None)
@given(
    subject=_text,
    seq=_int,
    position=st.integers(0, 2**53 - 2),
    id=_text,
    source=_text,
    type=_text,
    time=_text,
    recorded_us=_int,
    data=st.dictionaries(_key, st.one_of(_text, _int, st.none(), st.booleans()), max_size=4),
    prev=st.binary(min_size=32, max_size=32),
)
def test_verifier_record_hash_is_chain_record_bytes(
    subject: str,
    seq: int,
    position: int,
    id: str,
    source: str,
    type: str,
    time: str,
    recorded_us: int,
    data: dict[str, object],
    prev: bytes,
) -> None:
    state = chain.canonical(data)
    want = hashlib.sha256(
        chain.record_bytes(
            subject=subject,
            seq=seq,
            position=position,
            id=id,
            source=source,
            type=type,
            time=time,
            recorded_us=recorded_us,
            data_canonical=state,
            prev=prev.hex(),
        )
    ).digest()
    row = (
        position + 1,
        subject,
        b"",
        seq,
        id,
        source,
        type,
        time,
        0,
        recorded_us,
        state,
        want,
        prev,
    )
    assert record_checks._record_hash(row) == want
    heads: dict[str, list[object]] = {}
    failure = record_checks.check_rows([row], heads, [], firsts={})
    assert failure is None or failure.check in ("stream", "time"), failure


@given(st.text(st.characters(exclude_categories=["Cs"]), max_size=20))
def test_stream_id_bytes_is_uuid5(code: str) -> None:
    assert record_checks.stream_id_bytes(code) == subject_stream_id(code).bytes
    assert record_checks._stream_id(code, "x") == subject_stream_id(code).hex
    assert record_checks._stream_id(code, uuid.uuid4()) == subject_stream_id(code)


_SUBJECT = "91110000100000000X"


def _stream_rows(times: list[tuple[str, int]]) -> list[tuple[object, ...]]:
    """One subject's rows (``AUDIT_COLUMNS`` order) at positions 0, 1, 2 …, each with the
    given ``(time, time_us)`` and its true hash and prev."""
    rows: list[tuple[object, ...]] = []
    prev = record_checks.ZERO32
    for position, (time, time_us) in enumerate(times):
        state = chain.canonical({"n": position})
        digest = hashlib.sha256(
            chain.record_bytes(
                subject=_SUBJECT,
                seq=position + 1,
                position=position,
                id=f"e{position}",
                source="test/1",
                type="credit.violation.recorded",
                time=time,
                recorded_us=1,
                data_canonical=state,
                prev=prev.hex(),
            )
        ).digest()
        oid = record_checks.stream_id_bytes(_SUBJECT)
        rows.append(
            (position + 1, _SUBJECT, oid, position + 1, f"e{position}", "test/1",
             "credit.violation.recorded", time, time_us, 1, state, digest, prev)
        )  # fmt: skip
        prev = digest
    return rows


_GOOD_TIME = ("2024-01-02T03:04:05.000006Z", 1_704_164_645_000_006)


@pytest.mark.parametrize(
    ("time", "time_us"),
    [
        (_GOOD_TIME[0], _GOOD_TIME[1] + 1),  # time_us one microsecond off
        ("yesterday", _GOOD_TIME[1]),  # not a time
        ("2024-01-02T03:04:05.000006", _GOOD_TIME[1]),  # no offset
    ],
)
def test_check_rows_names_the_first_bad_time(time: str, time_us: int) -> None:
    """A record whose ``time_us`` is not the instant its (hashed) ``time`` names fails the
    ``time`` check at that record; the records before it are good leaves."""
    rows = _stream_rows([_GOOD_TIME, _GOOD_TIME, (time, time_us), _GOOD_TIME])
    leaves: list[bytes] = []
    failure = record_checks.check_rows(rows, {}, leaves, expect_position=0)
    assert failure is not None
    assert (failure.check, failure.position, failure.seq) == ("time", 2, 3)
    assert leaves == [rows[0][11], rows[1][11]]


def test_check_rows_checks_a_records_hash_before_its_time() -> None:
    """A record with both a bad hash and a bad ``time_us`` fails the ``hash`` check, and a
    bad time after a bad hash is not reached."""
    rows = _stream_rows([_GOOD_TIME, _GOOD_TIME, (_GOOD_TIME[0], 0)])
    rows[1] = (*rows[1][:11], bytes(32), rows[1][12])
    failure = record_checks.check_rows(rows, {}, [], expect_position=0)
    assert failure is not None and (failure.check, failure.position) == ("hash", 1)
    rows = _stream_rows([_GOOD_TIME, (_GOOD_TIME[0], 0)])
    rows[1] = (*rows[1][:11], bytes(32), rows[1][12])
    failure = record_checks.check_rows(rows, {}, [], expect_position=0)
    assert failure is not None and (failure.check, failure.position) == ("hash", 1)
    assert (
        record_checks.check_rows(_stream_rows([_GOOD_TIME] * 3), {}, [], expect_position=0) is None
    )


# ---- the segment tree and stitching --------------------------------------------------------


def _leaf_digests(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]


@pytest.mark.parametrize("align_log", [4, 5, 6])
def test_segments_stitch_to_the_rfc_tree(align_log: int) -> None:
    rng = random.Random(align_log)
    for n in [0, 1, 15, 16, 17, 64, 100, 257, 600]:
        digests = _leaf_digests(n)
        leaves = [merkle.leaf_hash(d) for d in digests]
        created, _ = merkle.append(0, {}, leaves)
        stored_all = {(lvl, i): h for lvl, i, h in created if lvl >= 4}
        align = 1 << align_log
        bounds = sorted({0, *(rng.randrange(0, n + 1) // align * align for _ in range(3))})
        bounds = [b for b in bounds if b < n] + [n]
        frontier: dict[int, bytes] = {}
        size = 0
        checked = 0
        for a, b in itertools.pairwise(bounds):
            tree = segments._SegmentTree(a, segments.top_level(a))
            stored = {k: v for k, v in stored_all.items() if k[1] << k[0] >= a}
            pos = a
            while pos < b:  # pages of random length, with a root check at each page end
                end = min(b, pos + rng.randint(1, 40))
                assert tree.add(digests[pos:end], stored) is None
                front = dict(frontier)
                s = size
                for level, h in tree.pieces():
                    s = stitching._append_piece(front, s, level, h, None)[0]
                assert s == end
                assert stitching._fold(front) == merkle.root(leaves[:end]), (n, a, end)
                pos = end
            checked += tree.checked
            upper = {k: v for k, v in stored_all.items() if k[0] > segments.top_level(a)}
            before = len(upper)
            for level, h in tree.pieces():
                size, failure = stitching._append_piece(
                    frontier, size, level, h, upper if a else None
                )
                assert failure is None
            checked += before - len(upper)
        assert size == n
        assert stitching._fold(frontier) == merkle.root(leaves)
        assert checked == len(stored_all), n


def test_segment_tree_names_the_block_of_an_altered_leaf() -> None:
    digests = _leaf_digests(64)
    created, _ = merkle.append(0, {}, [merkle.leaf_hash(d) for d in digests])
    stored = {(lvl, i): h for lvl, i, h in created if lvl >= 4}
    digests[37] = b"\x00" * 32
    tree = segments._SegmentTree(0, 64)
    failure = tree.add(digests, stored)
    assert failure is not None and failure.check == "tree"
    assert (failure.position, failure.last_position) == (32, 47)


def test_earlier_failure_prefers_the_named_record() -> None:
    rec = verify_outcome.Failure("hash", "x", 40)
    block = verify_outcome.Failure("tree", "y", 32, last_position=47)
    before = verify_outcome.Failure("tree", "z", 0, last_position=15)
    assert verify_outcome.earlier(rec, block) is rec
    assert verify_outcome.earlier(block, rec) is rec
    assert verify_outcome.earlier(rec, before) is before
    assert verify_outcome.earlier(None, rec) is rec
    assert rec.describe() == "position 40: hash: x"
    assert block.describe() == "positions 32..47: tree: y"


def test_merge_heads() -> None:
    from ledger.audit.checkpoints import _merge

    old = [("A", 1, b"a"), ("C", 2, b"c"), ("E", 1, b"e")]
    new = [("B", 1, b"b"), ("C", 3, b"C"), ("F", 1, b"f")]
    assert _merge(old, new) == [
        ("A", 1, b"a"),
        ("B", 1, b"b"),
        ("C", 3, b"C"),
        ("E", 1, b"e"),
        ("F", 1, b"f"),
    ]
    assert _merge([], new) == new and _merge(old, []) == old


@pytest.mark.parametrize("size", [verify.PARALLEL_FROM, 300_000, 1_000_003])
@pytest.mark.parametrize("workers", [2, 3, 4])
def test_segments_are_aligned_and_nearly_equal(size: int, workers: int) -> None:
    """The slowest worker bounds ``verify --workers``: its segments tile the ledger, start
    at multiples of ``SEGMENT_ALIGN`` and differ by at most that much from an equal share."""
    plan = verify._segments(size, workers)
    assert [a for a, _ in plan[1:]] == [b for _, b in plan[:-1]]
    assert plan[0][0] == 0 and plan[-1][1] == size and len(plan) == workers
    assert all(a % verify.SEGMENT_ALIGN == 0 for a, _ in plan)
    assert all(abs((b - a) - size / workers) <= verify.SEGMENT_ALIGN for a, b in plan)
    assert verify._segments(verify.PARALLEL_FROM - 1, workers) == [(0, verify.PARALLEL_FROM - 1)]
