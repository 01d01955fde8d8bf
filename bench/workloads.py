"""The bench's workloads: realistic, valid CloudEvents, deterministic by seed.

A :class:`Workload` is many small subject streams plus a few hot ones:

* ``hot`` subjects with exactly the listed numbers of events (at every scale one
  with 10,000 and at least one with 1,000: the as-of reads are measured on them);
* the other subjects share the rest with a Zipf-like skew (weight ``rank^-0.8``,
  each at least 1 and at most :data:`BACKGROUND_CAP` events), so most streams
  hold a handful of events and a few hundred hold hundreds;
* all events are interleaved in one random order (the order agencies report in),
  with valid times rising from 2021-01-01 (China time) by equal steps to mid-2025.

Event types: ``credit.violation.recorded``, ``credit.penalty.decided`` and
``credit.commitment.made`` (no references), and ``credit.commitment.fulfilled``
naming the subject's open (earlier, unfulfilled) ``commitment.made``. Subject codes
are valid GB 32100 codes made by :func:`events.codes.complete_subject_code`; ids are
unique across the workload. Every event passes ``events.envelope.parse_submission``
and ``commands.decide`` in workload order.

Determinism: the same ``(scale, seed)`` gives the same events in the same order on
every pass (:meth:`Workload.batches` may be iterated any number of times); nothing
reads the clock or global random state. Memory: the order (4 bytes per event) and
two counters per subject are kept; events are generated batch by batch, so even
``full`` (10,000,000 events) never holds them all.
"""

from __future__ import annotations

import random
import time as _time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from events.codes import ALPHABET, complete_subject_code

__all__ = [
    "BACKGROUND_CAP",
    "SCALES",
    "BenchEvent",
    "Scale",
    "Workload",
    "followup",
]

BACKGROUND_CAP = 500
"""The most events a non-hot subject gets."""
ZIPF_EXPONENT = 0.8
"""Background subject of rank r gets events in proportion to r^-ZIPF_EXPONENT."""

T0_S = 1_609_430_400  # 2021-01-01T00:00:00+08:00
SPAN_S = 1_751_299_200 - T0_S  # to 2025-07-01T00:00:00+08:00
"""Valid times run from T0_S over SPAN_S seconds (4.5 years)."""
CST_S = 8 * 3600

_REGIONS = (
    "110105",
    "310115",
    "440300",
    "440106",
    "330106",
    "320500",
    "510107",
    "420106",
    "370202",
    "500103",
    "610113",
)
_PREFIXES = ("91", "91", "91", "91", "92", "92", "93", "12", "52", "N2")
_SECTORS = (
    ("food", "FOOD"),
    ("drug", "DRUG"),
    ("environment", "ENV"),
    ("tax", "TAX"),
    ("work-safety", "SAFE"),
    ("product-quality", "QUAL"),
    ("advertising", "ADV"),
)
_BASES = (
    "《中华人民共和国食品安全法》第一百二十四条",
    "《中华人民共和国产品质量法》第四十九条",
    "《中华人民共和国环境保护法》第五十九条",
    "《中华人民共和国税收征收管理法》第六十三条",
    "《中华人民共和国安全生产法》第九十九条",
    "《中华人民共和国广告法》第五十五条",
)
_AGENCIES = ("samr", "samr", "samr", "tax", "mee", "emergency")
_KINDS = ("warning", "criticism", "fine", "confiscation", "suspension", "restriction")
_COMMITMENT_TYPES = ("approval-substitute", "voluntary", "industry", "repair")
_MATTERS = (
    "食品经营许可告知承诺",
    "建设工程消防验收告知承诺",
    "行业自律信用承诺书",
    "容缺受理承诺：补交法定代表人身份证明",
    "信用修复承诺书",
)


@dataclass(frozen=True, slots=True)
class Scale:
    """One bench size. ``events`` counts the bulk workload (hot streams included);
    ``latency_events`` single-event submissions (spread over the writers) and
    ``reads`` as-of reads per hot size are measured after it."""

    name: str
    events: int
    subjects: int
    hot: tuple[int, ...]
    latency_events: int
    reads: int

    def __post_init__(self) -> None:
        background = self.subjects - len(self.hot)
        rest = self.events - sum(self.hot)
        if background < 1 or rest < background or rest > background * BACKGROUND_CAP:
            msg = f"scale {self.name}: {rest} events cannot be spread over {background} subjects"
            raise ValueError(msg)
        if 10_000 not in self.hot or 1_000 not in self.hot:
            msg = f"scale {self.name}: needs hot subjects of 1,000 and 10,000 events"
            raise ValueError(msg)


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("smoke", 15_000, 1_000, (10_000, 1_000), latency_events=100, reads=20),
        Scale("small", 100_000, 10_000, (10_000, 1_000, 1_000, 1_000), 1_000, 50),
        Scale("medium", 300_000, 30_000, (10_000, 10_000, *([1_000] * 5)), 2_000, 100),
        Scale("large", 1_000_000, 100_000, (10_000,) * 3 + (1_000,) * 10, 4_000, 200),
        Scale("full", 10_000_000, 1_000_000, (10_000,) * 10 + (1_000,) * 100, 10_000, 500),
    )
}
"""``smoke`` (a minute or less) through ``full`` (10,000,000 events, 1,000,000 subjects)."""


@dataclass(frozen=True, slots=True)
class BenchEvent:
    """One workload event: the CloudEvent (``event``), which subject (index into
    :attr:`Workload.codes`) and its 1-based seq in that subject's stream, and the
    valid time in seconds since the epoch."""

    event: dict[str, Any]
    subject_index: int
    seq: int
    time_s: int


def _body(n: int) -> str:
    """``n`` (0 ≤ n < 31^8) as 8 characters of the code alphabet."""
    out = []
    for _ in range(8):
        n, d = divmod(n, 31)
        out.append(ALPHABET[d])
    return "".join(reversed(out))


def subject_code(index: int, seed: int) -> str:
    """The code of subject ``index``: distinct for distinct indexes (the organisation
    body is an affine bijection of the index modulo 31^8), valid by construction."""
    n = (index * 2_654_435_761 + seed * 7_919) % 31**8
    prefix = _PREFIXES[index % len(_PREFIXES)]
    region = _REGIONS[(index // len(_PREFIXES)) % len(_REGIONS)]
    return complete_subject_code(prefix + region + _body(n))


def allocate(total: int, n: int, exponent: float, cap: int) -> list[int]:
    """``n`` counts, each in [1, cap], summing to ``total``, in proportion to
    ``(rank + 1)^-exponent`` (rank 0 largest). Raises ValueError if impossible."""
    if not n <= total <= n * cap:
        raise ValueError(f"cannot spread {total} over {n} subjects of at most {cap}")
    counts = [1] * n
    extra = total - n
    active = list(range(n))
    while extra > 0:
        weights = [(r + 1) ** -exponent for r in active]
        scale = extra / sum(weights)
        given = 0
        still: list[int] = []
        for r, w in zip(active, weights, strict=True):
            add = min(int(scale * w), cap - counts[r])
            counts[r] += add
            given += add
            if counts[r] < cap:
                still.append(r)
        if given == 0:  # less than one each is left: one more for the top ranks
            for r in still[:extra]:
                counts[r] += 1
                given += 1
        extra -= given
        active = still
    return counts


@dataclass
class Workload:
    """The events of one scale and seed (see the module docstring)."""

    scale: Scale
    seed: int = 20_261_120
    codes: list[str] = field(init=False, repr=False)
    counts: list[int] = field(init=False, repr=False)
    _order: array[int] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        s = self.scale
        self.codes = [subject_code(i, self.seed) for i in range(s.subjects)]
        background = allocate(
            s.events - sum(s.hot), s.subjects - len(s.hot), ZIPF_EXPONENT, BACKGROUND_CAP
        )
        self.counts = list(s.hot) + background

    @property
    def size(self) -> int:
        """How many events :meth:`batches` yields."""
        return self.scale.events

    def hot_subjects(self, events: int) -> list[str]:
        """The codes of the hot subjects with exactly ``events`` events."""
        return [self.codes[i] for i, n in enumerate(self.scale.hot) if n == events]

    def order(self) -> array[int]:
        """Subject index of each event, in workload order (computed once)."""
        if self._order is None:
            order = array("I")
            for i, n in enumerate(self.counts):
                order.extend([i] * n)
            random.Random(self.seed).shuffle(order)
            self._order = order
        return self._order

    def events(self) -> Iterator[BenchEvent]:
        """Every event, in workload order (a fresh pass each call)."""
        order = self.order()
        total = len(order)
        rng = random.Random(self.seed + 1)
        seq = array("I", bytes(4 * len(self.codes)))
        open_commitment = array("q", [-1]) * len(self.codes)
        codes = self.codes
        for k in range(total):
            i = order[k]
            seq[i] += 1
            t = T0_S + k * SPAN_S // total
            code = codes[i]
            region = code[2:8]
            r = rng.random()
            open_k = open_commitment[i]
            if r < 0.85 or open_k < 0:
                kind = (
                    "credit.violation.recorded"
                    if r < 0.35
                    else "credit.penalty.decided"
                    if r < 0.65
                    else "credit.commitment.made"
                )
            else:
                kind = "credit.commitment.fulfilled"
            if kind == "credit.commitment.made":
                source = f"credit-platform/{region}"
                data: dict[str, Any] = {
                    "commitment_type": rng.choice(_COMMITMENT_TYPES),
                    "matter": rng.choice(_MATTERS),
                    "due": None,
                }
                open_commitment[i] = k
            elif kind == "credit.commitment.fulfilled":
                source = f"credit-platform/{region}"
                data = {"commitment": _event_id(source, open_k)}
                open_commitment[i] = -1
            else:
                agency = rng.choice(_AGENCIES)
                source = f"{agency}/{region}"
                data = _finding(rng, kind, t)
            yield BenchEvent(
                {
                    "specversion": "1.0",
                    "id": _event_id(source, k),
                    "source": source,
                    "type": kind,
                    "subject": code,
                    "time": _cst(t),
                    "datacontenttype": "application/json",
                    "data": data,
                },
                i,
                seq[i],
                t,
            )

    def batches(self, size: int) -> Iterator[list[BenchEvent]]:
        """:meth:`events` in consecutive lists of ``size`` (the last may be shorter)."""
        batch: list[BenchEvent] = []
        for ev in self.events():
            batch.append(ev)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def followups(self, count: int, seed: int = 1) -> list[dict[str, Any]]:
        """``count`` further events (no references) on existing subjects, picked in
        proportion to their activity, with valid times after the workload's and ids
        of their own: what single-event submissions send after the bulk load."""
        order = self.order()
        rng = random.Random(self.seed * 31 + seed)
        return [
            followup(rng, self.codes[order[rng.randrange(len(order))]], j, seed)
            for j in range(count)
        ]


def followup(rng: random.Random, code: str, j: int, seed: int) -> dict[str, Any]:
    """Follow-up event ``j`` (of series ``seed``) on subject ``code``: a commitment, a
    violation or a penalty (no references), valid time after the workload's (60 s
    per ``j``), id unique per (``seed``, ``j``, source)."""
    region = code[2:8]
    t = T0_S + SPAN_S + 60 * j
    r = rng.random()
    if r < 0.3:
        source = f"credit-platform/{region}"
        kind = "credit.commitment.made"
        data: dict[str, Any] = {
            "commitment_type": rng.choice(_COMMITMENT_TYPES),
            "matter": rng.choice(_MATTERS),
            "due": None,
        }
    else:
        source = f"{rng.choice(_AGENCIES)}/{region}"
        kind = "credit.violation.recorded" if r < 0.65 else "credit.penalty.decided"
        data = _finding(rng, kind, t)
    return {
        "specversion": "1.0",
        "id": f"{source.replace('/', '-')}-f{seed}-{j:08d}",
        "source": source,
        "type": kind,
        "subject": code,
        "time": _cst(t),
        "datacontenttype": "application/json",
        "data": data,
    }


def _event_id(source: str, k: int) -> str:
    return f"{source.replace('/', '-')}-{k:09d}"


def _cst(t: int) -> str:
    return _time.strftime("%Y-%m-%dT%H:%M:%S+08:00", _time.gmtime(t + CST_S))


def _finding(rng: random.Random, kind: str, t: int) -> dict[str, Any]:
    sector, abbrev = rng.choice(_SECTORS)
    year = _time.gmtime(t).tm_year
    severity = rng.choice(("minor", "general", "general", "serious"))
    if kind == "credit.violation.recorded":
        return {
            "behaviour": f"{abbrev}-{rng.randint(100, 999):04d}",
            "severity": severity,
            "sector": sector,
            "basis": rng.choice(_BASES),
            "document": f"市监认〔{year}〕{rng.randint(1, 9999)}号",
        }
    kinds = rng.sample(_KINDS, rng.randint(1, 2))
    amount = f"{rng.randint(1, 500) * 100}.00" if "fine" in kinds else None
    procedure = rng.choice(("simplified", "ordinary", "ordinary"))
    if severity == "minor":  # the rule set's minor definition: a warning or a small fine
        kinds, procedure = (["fine"], "simplified") if amount else (["warning"], "simplified")
        amount = f"{min(int(amount[:-3]), 200)}.00" if amount else None  # 个体工商户 too
    return {
        "kinds": kinds,
        "amount": amount,
        "procedure": procedure,
        "severity": severity,
        "sector": sector,
        "basis": rng.choice(_BASES),
        "document": f"罚〔{year}〕{rng.randint(1, 9999)}号",
    }
