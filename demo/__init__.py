"""A deterministic, realistic demo data set: the credit records of ~1,200 market subjects.

:func:`generate` returns CloudEvents 1.0 structured-JSON dicts (DESIGN.md, "The wire
format") as agencies would submit them, each with the moment the demo should record
it. The module is pure: it reads no clock, writes nothing and uses no global random
state; everything derives from ``seed``. ``ledger demo`` feeds the result to the
ledger in ``recorded_us`` order.

What the data set looks like (DOMAIN.md is the vocabulary and the rules):

* Subjects: unified social credit codes (GB 32100) from eleven regions (GB/T 2260)
  and eleven registration authority / category prefixes (91 enterprises, 92
  individual businesses, 93 farmers' cooperatives, 11/12 organs and public
  institutions, 51/52/53 social organisations, N2 rural collective economic
  organisations, A1, Y1), new-style (``MA…``) and old-style (8 digits) organisation
  codes, every code completed by :func:`events.codes.complete_subject_code`.
* Lives: about 60 % clean (commitments made and fulfilled, registrations,
  evaluations, maybe a minor penalty), 30 % with findings (penalties, violation
  records, breached commitments, with rectification, interviews, objections,
  corrections, repair), 10 % heavy (serious findings, list proposal → designation,
  joint measures, bans, responsible persons, removal by expiry, repair or revocation).
* Agencies (``source``): ``samr/``, ``tax/``, ``mee/``, ``court/``, ``mohrss/``,
  ``emergency/``, ``ndrc/`` and ``credit-platform/`` followed by the subject's region.
* Time: decisions on Chinese working days (the official calendar of
  ``chinese_calendar``), office hours, from 2023-05-01 to :data:`DEMO_NOW`; each event
  is recorded hours to a few days after its ``time``, a few weeks later when reported
  late, and some corrections arrive months after the record they correct.

Guarantees of :func:`generate` (the tests check them):

* the same ``(subjects, seed)`` gives identical output; ``subjects`` subjects;
* every event passes ``events.envelope.parse_submission`` (valid codes, types,
  data; money as decimal strings; no JSON number with a fraction anywhere);
* ids are unique across the data set (``<agency>-<region>-<year>-<n:06d>``);
* ``time`` ≤ ``recorded_us`` ≤ :data:`DEMO_NOW`, and the list is sorted by
  ``recorded_us`` (non-decreasing);
* every reference field names an earlier event (earlier ``time`` and strictly earlier
  ``recorded_us``) of the same subject, of a type the vocabulary allows; nothing refers
  to a revoked record or to a withdrawn penalty afterwards;
* interviews and rectification orders come from the agency of their finding;
* repair is requested only after the minimum disclosure period of the rule set in
  force at the finding's time (Order 58 before 2026-04-01, Order 36 from then on)
  plus a margin of at least 21 days, after a repair commitment and after the
  completion of any rectification ordered; minor findings from 2026-04-01 on (not
  published) are never repaired;
* each subject's first event (in recorded order) carries ``data.subject_name``, the
  name :func:`names` gives for its code;
* every spring (2024–2026) each region's market regulator has its graded random spot
  check (双随机) drawn: the region's businesses by supervision tier (from their
  findings of the two years before), drawn with
  :func:`commands.workflows.inspections.draw` at the Henan 2021 ratios, one
  ``credit.inspection.selected`` per drawn subject, issued by the ledger's system
  source (DOMAIN.md: spot-check draws are the system's) with ``data.agency`` naming
  the regulator — so the demo is loaded with ``system=True``;
* every event's ``source`` may record it (DOMAIN.md "Who may record what",
  :mod:`commands.authority`): repair of publication is decided by the credit
  platform, the repair of a listing by its 认定单位.

Modules: :mod:`demo.days` (the demo's clock and working days), :mod:`demo.identities`
(regions, names, codes, persons), :mod:`demo.templates` (what agencies write); the
subjects' stories and :func:`generate` are here.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from commands.agencies import SYSTEM_SOURCE
from commands.workflows.inspections import draw
from demo.days import (
    _NOW_US,
    _ORDER_36,
    _SPECIAL_SECTORS,
    _US,
    DEMO_NOW,
    DEMO_START,
    _add_months,
    _add_workdays,
    _day_of,
    _money,
    _rfc3339,
    _us_at,
    _workdays,
)
from demo.identities import (
    _REGIONS,
    _person_name,
    _Subject,
    _subjects,
    id_number_check,
    names,
)
from demo.templates import (
    _COURT_VIOLATION,
    _DOC_PREFIX,
    _FINDING_WEIGHT_TYPES,
    _GUIDELINE_35,
    _MATTERS,
    _MEASURES_FOCUS,
    _MEASURES_SERIOUS,
    _OBJECTION_GROUNDS,
    _OBJECTION_REJECT,
    _ORDER_58_TITLE,
    _ORGAN_MATTERS,
    _PENALTY_TEMPLATES,
    _REPAIR_APPROVED,
    _REPAIR_REJECT,
    _SECTOR_AGENCY,
    _VIOLATIONS,
    _VOLUNTARY_MATTERS,
    _WITHDRAW_REASONS,
)

__all__ = [
    "DEMO_NOW",
    "DEMO_START",
    "DemoEvent",
    "agencies",
    "example_subject",
    "generate",
    "id_number_check",
    "names",
]


@dataclass(frozen=True, slots=True)
class DemoEvent:
    """One demo event: the CloudEvent an agency submits and when the demo records it.

    ``event`` is a complete CloudEvents 1.0 structured-JSON object (``specversion``,
    ``id``, ``source``, ``type``, ``subject``, ``time`` with ``+08:00``,
    ``datacontenttype``, ``data``). ``recorded_us`` is the recording moment in
    microseconds UTC: ≥ the event's ``time`` and ≤ :data:`DEMO_NOW`.
    """

    event: dict[str, Any]
    recorded_us: int


# -- generation ----------------------------------------------------------------------


@dataclass(slots=True)
class _Ev:
    id: str
    source: str
    type: str
    t: int
    """Valid time, microseconds UTC (whole seconds)."""
    r: int
    """Recorded time, microseconds UTC."""
    data: dict[str, Any]

    @property
    def day(self) -> date:
        return _day_of(self.t)


@dataclass(slots=True)
class _Finding:
    """What the story remembers about a finding while it unfolds."""

    ev: _Ev
    severities: set[str]
    sector: str | None
    rect_order: _Ev | None = None
    rect_done: _Ev | None = None
    closed: bool = False
    """Revoked or withdrawn: nothing may refer to it any more."""
    measures: list[_Ev] = field(default_factory=list)


class _Counters:
    """Id and document-number counters shared by all subjects (deterministic order)."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, int], int] = {}
        self.docs: dict[tuple[str, int], int] = {}

    def next_id(self, source: str, year: int) -> str:
        n = self.ids.get((source, year), 0) + 1
        self.ids[(source, year)] = n
        return f"{source.replace('/', '-')}-{year}-{n:06d}"

    def next_doc(self, key: str, year: int, rng: random.Random) -> int:
        n = self.docs.get((key, year), rng.randint(0, 40)) + rng.randint(1, 6)
        self.docs[(key, year)] = n
        return n


class _Story:
    """One subject's life in the demo: appends events to ``self.events``."""

    def __init__(self, subject: _Subject, counters: _Counters) -> None:
        self.s = subject
        self.rng = random.Random(subject.story_seed)
        self.counters = counters
        self.events: list[_Ev] = []
        self.dependents: dict[str, list[_Ev]] = {}
        """Per id, the events emitted with it as a dependency (a revocation or a
        withdrawal must follow all of them on both clocks)."""
        self.marks: list[tuple[date, int]] = []
        """(day, weight) of each finding: minor 0, general 1, serious 3."""

    # -- plumbing --------------------------------------------------------------------

    def src(self, agency: str) -> str:
        return f"{agency}/{self.s.region.code}"

    def office(self, day: date) -> int:
        """A moment in office hours (09:00–17:30, lunch skipped) on ``day``."""
        minute = self.rng.randint(0, 450)
        minute += 90 if minute >= 180 else 0  # 12:00–13:30 off
        return _us_at(day, 9 * 3600 + minute * 60 + self.rng.randint(0, 59))

    def between(self, lo: date, hi: date) -> int | None:
        """A working-day office moment in [lo, hi], or None if there is none."""
        days = _workdays()
        i = bisect.bisect_left(days, lo.toordinal())
        j = bisect.bisect_right(days, hi.toordinal())
        if i >= j:
            return None
        return self.office(date.fromordinal(days[self.rng.randrange(i, j)]))

    def days_after(self, base: _Ev | int, lo: int, hi: int) -> int | None:
        """A working-day office moment lo..hi calendar days after ``base`` (lo ≥ 1)."""
        day = _day_of(base.t if isinstance(base, _Ev) else base)
        return self.between(day + timedelta(days=lo), day + timedelta(days=hi))

    def wd_after(self, base: _Ev | int, lo: int, hi: int) -> int:
        """An office moment on the lo-th..hi-th working day after ``base`` (lo ≥ 1)."""
        day = _day_of(base.t if isinstance(base, _Ev) else base)
        return self.office(_add_workdays(day, self.rng.randint(lo, hi)))

    def delay_s(self) -> int:
        """Seconds between a decision and its recording: mostly hours, sometimes days,
        now and then weeks (late reporting)."""
        x = self.rng.random()
        if x < 0.55:
            return self.rng.randint(600, 8 * 3600)
        if x < 0.86:
            return self.rng.randint(8 * 3600, 3 * 86_400)
        if x < 0.96:
            return self.rng.randint(3 * 86_400, 7 * 86_400)
        return self.rng.randint(14 * 86_400, 50 * 86_400)

    def emit(
        self,
        type_: str,
        agency: str,
        t: int | None,
        data: dict[str, Any],
        deps: Sequence[_Ev | None] = (),
        delay_s: int | None = None,
    ) -> _Ev | None:
        """Append an event unless it would lie after DEMO_NOW (then None).

        ``deps`` are the events this one must follow (its references and the
        obligations it rests on): its time is pushed after theirs if needed and its
        recorded time after their recorded times. A None dependency means the
        prerequisite never happened, so neither does this event.
        """
        if t is None or any(d is None for d in deps):
            return None
        real = [d for d in deps if d is not None]
        for d in real:
            if t <= d.t:
                t = d.t + self.rng.randint(300, 3600) * _US
        if t > _NOW_US:
            return None
        r = t + (self.delay_s() if delay_s is None else delay_s) * _US
        r += self.rng.randint(0, _US - 1)
        floor = max((d.r for d in real), default=t) + self.rng.randint(1, 1800) * _US
        r = max(r, floor)
        if r > _NOW_US:
            lo = max(t, floor)
            if lo > _NOW_US:
                return None
            r = self.rng.randint(lo, _NOW_US)
        source = self.src(agency)
        ev = _Ev(self.counters.next_id(source, _day_of(t).year), source, type_, t, r, data)
        self.events.append(ev)
        if type_ in _FINDING_WEIGHT_TYPES:
            weight = {"minor": 0, "general": 1, "serious": 3}[data.get("severity", "general")]
            self.marks.append((_day_of(t), weight))
        for d in real:
            self.dependents.setdefault(d.id, []).append(ev)
        return ev

    def after_all(self, ev: _Ev) -> list[_Ev]:
        """The events emitted so far that depend on ``ev``."""
        return self.dependents.get(ev.id, [])

    def doc(self, kind: str, t: int) -> str:
        """A document number (文书号) of the kind's pattern for the decision at ``t``."""
        year = _day_of(t).year
        reg = self.s.region
        n = self.counters.next_doc(f"{reg.code}/{kind}", year, self.rng)
        if kind == "court":
            district = self.s.district[0]
            return f"（{year}）{reg.province}{district[2:]}执{n}号"
        return f"{reg.abbr}{kind}〔{year}〕{n}号"

    # -- identities ------------------------------------------------------------------

    def person(
        self, t: int | None, agency: str, role: str, deps: Sequence[_Ev | None] = ()
    ) -> _Ev | None:
        rng = self.rng
        district = rng.choice(self.s.region.districts)[0]
        born = date(1960, 1, 1) + timedelta(
            days=rng.randint(0, (date(2000, 12, 31) - date(1960, 1, 1)).days)
        )
        first17 = f"{district}{born:%Y%m%d}{rng.randint(0, 999):03d}"
        return self.emit(
            "credit.person.linked",
            agency,
            t,
            {
                "role": role,
                "name": _person_name(rng),
                "id_number": first17 + id_number_check(first17),
            },
            deps,
        )

    # -- the life --------------------------------------------------------------------

    def run(self) -> list[_Ev]:
        s, rng = self.s, self.rng
        start_t = self.between(s.start, s.start + timedelta(days=20))
        role = (
            "legal-representative"
            if s.prefix in {"91", "93", "52", "53", "N2", "51"}
            else "principal"
        )
        if rng.random() < 0.85:
            rep = self.person(start_t, "samr", role)
            if rep is not None and rng.random() < 0.12:  # a change of legal representative
                self.person(self.days_after(rep, 120, 900), "samr", role, [rep])
        self.registrations()
        commitments = rng.randint(3, 6) if s.business else rng.randint(1, 3)
        if s.profile == "clean":
            commitments += 1
        for k in range(commitments):
            self.commitment(first=(k == 0))
        if s.profile == "clean":
            if s.business and rng.random() < 0.3:
                self.penalty(self.finding_time(), "minor")
        elif s.profile == "findings":
            for _ in range(rng.choice((1, 2, 3, 3, 4, 5, 6))):
                self.some_finding()
        else:
            self.heavy()
        self.evaluations()  # last: grades reflect the findings before each publication
        return self.events

    def finding_time(self, lo: date | None = None, hi: date | None = None) -> int | None:
        lo = max(lo or self.s.start, DEMO_START) + timedelta(days=10)
        hi = hi or _day_of(_NOW_US) - timedelta(days=3)
        return self.between(lo, hi) if lo <= hi else None

    def weight(self, lo: date, hi: date) -> int:
        """The weight of the findings decided in [lo, hi]."""
        return sum(w for d, w in self.marks if lo <= d <= hi)

    def evaluations(self) -> None:
        """Yearly comprehensive evaluations (优/良/中/差, published the next spring) and
        market-regulation risk classes (A/B/C/D), graded by the findings before them."""
        s, rng = self.s, self.rng
        for year in (2022, 2023, 2024, 2025):
            if s.established > date(year, 10, 1) or rng.random() > 0.75:
                continue
            lo = max(date(year + 1, 4, 1), DEMO_START + timedelta(days=3))
            t = self.between(lo, date(year + 1, 6, 30))
            w = self.weight(date(year - 2, 1, 1), date(year, 12, 31))
            grades = (
                "优优良良良" if w == 0 else "良良中" if w <= 1 else "中中差" if w <= 3 else "差"
            )
            self.emit(
                "credit.evaluation.published",
                "ndrc",
                t,
                {
                    "scheme": "national-comprehensive",
                    "period": str(year),
                    "grade": rng.choice(grades),
                    "valid_until": f"{year + 2}-06-30",
                },
            )
        if s.business and rng.random() < 0.4:
            year = rng.choice((2024, 2025))
            t = self.between(date(year, 3, 1), date(year, 9, 30))
            if t is None:
                return
            w = self.weight(_day_of(t) - timedelta(days=730), _day_of(t))
            grades = "AAB" if w == 0 else "BBC" if w <= 2 else "CD"
            self.emit(
                "credit.evaluation.published",
                "samr",
                t,
                {
                    "scheme": "market-regulation",
                    "period": str(year),
                    "grade": rng.choice(grades),
                    "valid_until": f"{year + 1}-12-31",
                    "basis": "《市场监管总局关于推进企业信用风险分类管理进一步提升监管效能的意见》",
                },
            )

    def registrations(self) -> None:
        s, rng = self.s, self.rng
        n = rng.choice((0, 1, 1, 2, 3)) if s.profile == "clean" else rng.choice((0, 0, 1))
        city = s.region.city
        for _ in range(n):
            t = self.finding_time()
            if t is None:
                continue
            year = _day_of(t).year
            category = rng.choice(
                ("certificate", "certificate", "contract-performance", "charity", "honour")
            )
            if category == "certificate":
                what = rng.choice(
                    (
                        f"ISO 9001:2015质量管理体系认证证书（编号 {rng.randint(10**9, 10**10)}）",
                        f"高新技术企业证书（编号 GR{year}{rng.randint(10**7, 10**8)}）",
                        "ISO 14001:2015环境管理体系认证证书",
                        "职业健康安全管理体系认证证书（ISO 45001:2018）",
                    )
                )
            elif category == "contract-performance":
                what = f"连续{rng.randint(2, 5)}年获评“守合同重信用”企业（{year - 1}年度公示）"
            elif category == "charity":
                what = (
                    f"向{city}慈善总会捐赠人民币{_money(rng.randint(50, 2000) * 100_000)}元，"
                    "用于乡村振兴助学项目"
                )
            else:
                what = rng.choice(
                    (
                        f"{year - 1}年度纳税信用A级纳税人",
                        f"{city.rstrip('市')}市“专精特新”中小企业（{year}年认定）",
                        f"{year - 1}年度{city.rstrip('市')}市劳动关系和谐企业",
                    )
                )
            self.emit(
                "credit.registration.submitted",
                "credit-platform",
                t,
                {"category": category, "description": what},
            )

    def commitment(self, first: bool) -> None:
        """A commitment and its outcome; a false one becomes a finding."""
        s, rng = self.s, self.rng
        t = self.finding_time()
        if t is None:
            return
        x = rng.random()
        if not s.business and s.prefix not in {"51", "52"}:
            ctype, agency = "voluntary", "credit-platform"
            matter = rng.choice(_ORGAN_MATTERS + _VOLUNTARY_MATTERS[:1])
        elif x < 0.6 or first:
            ctype = "approval-substitute"
            agency, matters, _ = _MATTERS[rng.choice(s.sectors)]
            matter = rng.choice(matters)
        elif x < 0.85:
            ctype, agency, matter = "voluntary", "credit-platform", rng.choice(_VOLUNTARY_MATTERS)
        else:
            ctype, agency = "industry", "ndrc"
            matter = _MATTERS[rng.choice(s.sectors)][2]
        conditional = ctype == "approval-substitute" and rng.random() < 0.35
        day = _day_of(t)
        due = _add_workdays(day, rng.randint(10, 30)) if conditional else None
        made = self.emit(
            "credit.commitment.made",
            agency,
            t,
            {
                "commitment_type": ctype,
                "matter": matter,
                "due": due.isoformat() if due else None,
            },
        )
        if made is None:
            return
        y = rng.random()
        if due is not None:
            if first or y < 0.78:
                self.emit(
                    "credit.commitment.fulfilled",
                    agency,
                    self.between(day + timedelta(days=2), due),
                    {"commitment": made.id},
                    [made],
                )
            elif y < 0.91 or s.profile == "clean":
                pass  # left open: the ledger's deadline job breaches it after `due`
            else:
                breach = self.emit(
                    "credit.commitment.breached",
                    agency,
                    self.wd_after(_us_at(due, 43_200), 1, 8),
                    {
                        "commitment": made.id,
                        "kind": "unfulfilled",
                        "basis": f"{_GUIDELINE_35}第二条第（一）项",
                        "document": self.doc(_DOC_PREFIX[agency] + "容缺逾期认", t),
                    },
                    [made],
                )
                if breach is not None:
                    self.follow(_Finding(breach, {"general"}, None))
            return
        if first or y < 0.55:
            self.emit(
                "credit.commitment.fulfilled",
                agency,
                self.days_after(made, 20, 200),
                {"commitment": made.id},
                [made],
            )
        elif y < 0.63:
            self.emit(
                "credit.commitment.withdrawn",
                agency,
                self.days_after(made, 2, 40),
                {"commitment": made.id},
                [made],
            )
        elif y < 0.72 and s.profile != "clean" and ctype == "approval-substitute":
            breach = self.emit(
                "credit.commitment.breached",
                agency,
                self.days_after(made, 30, 240),
                {
                    "commitment": made.id,
                    "kind": "false",
                    "basis": "《中华人民共和国行政许可法》第六十九条第二款",
                    "document": self.doc(_DOC_PREFIX[agency] + "承诺核查认", t),
                },
                [made],
            )
            if breach is not None:
                self.follow(_Finding(breach, {"general"}, None))

    # -- findings --------------------------------------------------------------------

    def some_finding(self, severity: str | None = None, t: int | None = None) -> _Finding | None:
        """A penalty (mostly) or a violation record, then what follows from it."""
        rng = self.rng
        if severity is None:
            severity = rng.choices(("minor", "general", "serious"), (35, 55, 10))[0]
        t = t if t is not None else self.finding_time()
        if rng.random() < 0.75:
            return self.penalty(t, severity)
        return self.violation(t, severity)

    def penalty(
        self, t: int | None, severity: str, sector: str | None = None, heavy: bool = False
    ) -> _Finding | None:
        s, rng = self.s, self.rng
        if t is None:
            return None
        sector = sector or rng.choice(s.sectors)
        options = [x for x in _PENALTY_TEMPLATES[sector] if severity[0].upper() in x[2]]
        if not options:
            severity = "general"
            options = [x for x in _PENALTY_TEMPLATES[sector] if "G" in x[2]]
        facts, basis, _ = rng.choice(options)
        agency = _SECTOR_AGENCY[sector]
        if severity == "minor":
            procedure = "simplified"
            if rng.random() < 0.45:
                kinds, amount = ["warning"], None
            else:
                limit = 200 if s.individual else 3000
                choices = [a for a in (50, 100, 200, 500, 1000, 1500, 2000, 3000) if a <= limit]
                kinds, amount = ["fine"], _money(rng.choice(choices) * 100)
            kind = {
                "samr": "市监简罚",
                "tax": "税简罚",
                "emergency": "应急简罚",
                "mee": "环简罚",
                "mohrss": "人社简罚",
            }[agency]
        else:
            procedure = "ordinary"
            if severity == "general":
                lo, hi = (1_000, 20_000) if s.individual else (5_000, 200_000)
                kinds = rng.choice((["fine"], ["warning", "fine"], ["fine", "confiscation"]))
            else:
                lo, hi = (20_000, 200_000) if s.individual else (100_000, 3_000_000)
                kinds = rng.choice(
                    (
                        ["fine", "confiscation"],
                        ["fine", "suspension"],
                        ["fine", "confiscation", "revocation"],
                    )
                )
            if sector == "tax":
                amount = _money(rng.randint(lo * 100, hi * 100))  # 0.5–5 × the tax evaded
            else:
                amount = _money(rng.randint(lo // 100, hi // 100) * 10_000)
            kind = {
                "samr": "市监罚",
                "tax": "税稽罚",
                "emergency": "应急罚",
                "mee": "环罚",
                "mohrss": "人社监罚",
            }[agency]
            if sector == "fire-safety":
                kind = "消行罚决字"
        ev = self.emit(
            "credit.penalty.decided",
            agency,
            t,
            {
                "kinds": kinds,
                "amount": amount,
                "procedure": procedure,
                "severity": severity,
                "sector": sector,
                "basis": basis,
                "document": self.doc(kind, t),
                "facts": facts,
            },
        )
        if ev is None:
            return None
        finding = _Finding(ev, {severity}, sector)
        self.follow(finding, heavy)
        return finding

    def violation(self, t: int | None, severity: str, heavy: bool = False) -> _Finding | None:
        rng = self.rng
        if t is None:
            return None
        options = [
            v
            for v in _VIOLATIONS
            if severity[0].upper() in v[5]
            and (v[3] in self.s.sectors or v[3] in {"market-registration", "tax"})
        ]
        if not options:
            return self.penalty(t, severity, heavy=heavy)
        behaviour, facts, basis, sector, agency, _ = rng.choice(options)
        kind = {
            "samr": "市监信认",
            "mohrss": "人社欠薪认",
            "tax": "税稽处",
            "mee": "环信认",
            "emergency": "应急信认",
        }[agency]
        ev = self.emit(
            "credit.violation.recorded",
            agency,
            t,
            {
                "behaviour": behaviour,
                "severity": severity,
                "sector": sector,
                "basis": basis,
                "document": self.doc(kind, t),
                "facts": facts,
            },
        )
        if ev is None:
            return None
        finding = _Finding(ev, {severity}, sector)
        self.follow(finding, heavy)
        return finding

    def follow(self, f: _Finding, heavy: bool = False) -> None:
        """What may follow a finding: objection and correction or revocation,
        rectification, interview, withdrawal, late correction, measures, repair."""
        rng, ev = self.rng, f.ev
        severity = max(f.severities, key=("minor", "general", "serious").index)
        agency = ev.source.split("/")[0]
        # objection within weeks, resolved within 5 working days
        if rng.random() < (0.13 if severity != "minor" else 0.05):
            filed = self.emit(
                "credit.objection.filed",
                "credit-platform",
                self.days_after(ev, 5, 30),
                {"target": ev.id, "grounds": rng.choice(_OBJECTION_GROUNDS)},
                [ev],
            )
            if filed is not None:
                upheld = rng.random() < 0.4
                resolved = self.emit(
                    "credit.objection.resolved",
                    agency,
                    self.wd_after(filed, 1, 5),
                    {
                        "objection": filed.id,
                        "outcome": "upheld" if upheld else "rejected",
                        "reasons": (
                            "经核查，异议理由成立，予以更正"
                            if upheld
                            else rng.choice(_OBJECTION_REJECT)
                        ),
                    },
                    [filed],
                )
                if upheld and resolved is not None:
                    changes = self.changes(f)
                    if changes is None or rng.random() < 0.35:
                        if (
                            self.emit(
                                "credit.record.revoked",
                                agency,
                                self.wd_after(resolved, 1, 3),
                                {
                                    "target": ev.id,
                                    "reason": "经异议核查，原认定事实不清，撤销该失信记录",
                                },
                                [ev, resolved, *self.after_all(ev)],
                            )
                            is not None
                        ):
                            f.closed = True
                            return
                    else:
                        self.emit(
                            "credit.record.corrected",
                            agency,
                            self.wd_after(resolved, 1, 3),
                            {
                                "target": ev.id,
                                "changes": changes,
                                "reason": "异议成立，依异议核查结果更正",
                            },
                            [ev, resolved],
                        )
        # rectification (same agency as the finding: 谁认定、谁约谈)
        if rng.random() < {"minor": 0.3, "general": 0.55, "serious": 0.75}[severity]:
            t = (
                ev.t + rng.randint(600, 5400) * _US
                if rng.random() < 0.4
                else self.wd_after(ev, 1, 7)
            )
            deadline = _day_of(t) + timedelta(days=rng.choice((15, 30, 30, 45, 60)))
            f.rect_order = self.emit(
                "credit.rectification.ordered",
                agency,
                t,
                {
                    "finding": ev.id,
                    "deadline": deadline.isoformat(),
                    "document": self.doc(_DOC_PREFIX[agency] + "责改", t),
                },
                [ev],
            )
            if f.rect_order is not None and rng.random() < 0.88:
                late = rng.random() < 0.1
                lo, hi = (
                    (3, (deadline - _day_of(t)).days)
                    if not late
                    else ((deadline - _day_of(t)).days + 1, (deadline - _day_of(t)).days + 30)
                )
                f.rect_done = self.emit(
                    "credit.rectification.completed",
                    agency,
                    self.days_after(f.rect_order, lo, hi),
                    {"rectification": f.rect_order.id},
                    [f.rect_order],
                )
        # interview
        if rng.random() < {"minor": 0.15, "general": 0.3, "serious": 0.6}[severity]:
            self.emit(
                "credit.interview.held",
                agency,
                self.wd_after(ev, 1, 15),
                {
                    "finding": ev.id,
                    "kind": "warning" if severity == "serious" or heavy else "reminder",
                },
                [ev],
            )
        # withdrawal of a penalty decision (revoked on review or in court)
        if ev.type == "credit.penalty.decided" and severity != "minor" and rng.random() < 0.04:
            after = max((d.t for d in self.after_all(ev)), default=ev.t)
            if (
                self.emit(
                    "credit.penalty.withdrawn",
                    agency,
                    self.days_after(after, 20, 150),
                    {
                        "penalty": ev.id,
                        "reason": rng.choice(_WITHDRAW_REASONS),
                    },
                    [ev, *self.after_all(ev)],
                )
                is not None
            ):
                f.closed = True
                return
        # a correction without an objection; some arrive months later
        if rng.random() < 0.06:
            changes = self.changes(f, safe=True)
            if changes:
                lo, hi = (60, 240) if rng.random() < 0.6 else (3, 30)
                self.emit(
                    "credit.record.corrected",
                    agency,
                    self.days_after(ev, lo, hi),
                    {
                        "target": ev.id,
                        "changes": changes,
                        "reason": "经复核，原公示信息录入有误，予以更正",
                    },
                    [ev],
                )
        # measures decided on the finding itself
        if severity != "minor" and rng.random() < (0.5 if heavy else 0.15):
            code = "enhanced-supervision" if rng.random() < 0.7 else "public-criticism"
            until = (
                _add_months(_day_of(ev.t), rng.choice((6, 12, 24))) if rng.random() < 0.5 else None
            )
            m = self.emit(
                "credit.measure.applied",
                agency,
                self.wd_after(ev, 1, 10),
                {
                    "measure": code,
                    "finding": ev.id,
                    "until": until.isoformat() if until else None,
                    "basis": f"{_GUIDELINE_35}第二条第（六）项",
                    "document": self.doc(_DOC_PREFIX[agency] + "信管", ev.t),
                },
                [ev],
            )
            if m is not None:
                f.measures.append(m)
                if until is None and f.rect_done is not None and rng.random() < 0.5:
                    self.emit(
                        "credit.measure.lifted",
                        agency,
                        self.wd_after(f.rect_done, 1, 20),
                        {"application": m.id},
                        [m, f.rect_done],
                    )
                    f.measures.remove(m)
        if not heavy and rng.random() < 0.5:
            self.repair(f)

    def changes(self, f: _Finding, safe: bool = False) -> dict[str, Any] | None:
        """Corrected fields for a finding. ``safe`` ones never lower the severity."""
        rng, data = self.rng, f.ev.data
        if f.ev.type == "credit.penalty.decided":
            amount = data["amount"]
            if amount is not None and rng.random() < 0.7:
                cents = int(amount.replace(".", ""))
                if data["severity"] == "minor":
                    new = max(5_000, cents // 200 * 100)
                else:
                    floor = 100_000 if self.s.individual else 500_000
                    new = max(floor, cents * rng.choice((5, 6, 8)) // 1000 * 100)
                if new != cents:
                    return {"amount": _money(new)}
            return {"document": data["document"].replace("号", "-1号")}
        if f.ev.type == "credit.violation.recorded":
            if not safe and data["severity"] != "minor":
                lower = {"serious": "general", "general": "minor"}[data["severity"]]
                f.severities.add(lower)
                return {"severity": lower}
            return {"basis": data["basis"].replace("》", "》（2023年修订）", 1)}
        if f.ev.type == "credit.commitment.breached" and not safe and data["kind"] == "false":
            return {"kind": "unfulfilled"}
        return None

    def min_months(self, f: _Finding) -> int | None:
        """The minimum disclosure period before repair (conservative), or None when the
        finding is not published (minor, decided from 2026-04-01 on)."""
        day = f.ev.day
        if f.ev.type == "credit.list.designated":
            return 12
        if day >= _ORDER_36:
            if "minor" in f.severities:
                return None
            return 12 if "serious" in f.severities else 3
        if f.sector in _SPECIAL_SECTORS or "serious" in f.severities:
            return 12
        return 3

    def repair(
        self, f: _Finding, lo_day: date | None = None, hi_day: date | None = None
    ) -> _Ev | None:
        """Repair of a finding or designation: commitment, request, decision; maybe a
        revocation of the approval after the repair commitment is breached.
        Returns the approval, or None."""
        rng, ev = self.rng, f.ev
        months = self.min_months(f)
        if months is None or f.closed:
            return None
        if f.rect_order is not None and f.rect_done is None:
            return None  # obligations unmet
        earliest = _add_months(ev.day, months) + timedelta(days=rng.randint(21, 120))
        if lo_day is not None:
            earliest = max(earliest, lo_day)
        if f.rect_done is not None:
            earliest = max(earliest, f.rect_done.day + timedelta(days=5))
        t_req = self.between(earliest, earliest + timedelta(days=150))
        if t_req is None or t_req > _NOW_US or (hi_day is not None and _day_of(t_req) > hi_day):
            return None
        req_day = _day_of(t_req)
        t_com = self.between(
            max(req_day - timedelta(days=14), earliest - timedelta(days=20)),
            req_day - timedelta(days=1),
        )
        commitment = self.emit(
            "credit.commitment.made",
            "credit-platform",
            t_com,
            {
                "commitment_type": "repair",
                "matter": f"信用修复承诺：已纠正失信行为并履行相关义务，今后依法诚信经营"
                f"（{ev.data.get('document', ev.id)}）",
                "due": None,
            },
            [ev] + ([f.rect_done] if f.rect_done else []),
        )
        methods = ["commitment"] + (["rectification"] if f.rect_done else [])
        methods += rng.sample(("training", "report", "verification", "charity"), rng.randint(0, 2))
        request = self.emit(
            "credit.repair.requested",
            "credit-platform",
            t_req,
            {
                "target": ev.id,
                "methods": methods,
            },
            [ev, commitment] + ([f.rect_done] if f.rect_done else []),
        )
        if request is None or commitment is None:
            return None
        approved = rng.random() < 0.8
        # the platform decides repair of publication; a listing's repair is its 认定单位's
        decider = (
            ev.source.split("/")[0] if ev.type == "credit.list.designated" else "credit-platform"
        )
        if not approved:
            rejection = self.emit(
                "credit.repair.rejected",
                decider,
                self.wd_after(request, 3, 10),
                {
                    "request": request.id,
                    "reasons": rng.choice(_REPAIR_REJECT),
                },
                [request],
            )
            if rejection is None or rng.random() < 0.5:
                return None
            request = self.emit(
                "credit.repair.requested",
                "credit-platform",
                self.days_after(rejection, 20, 90),
                {
                    "target": ev.id,
                    "methods": [*methods, *(() if "report" in methods else ("report",))],
                },
                [ev, commitment, rejection],
            )
            if request is None:
                return None
        approval = self.emit(
            "credit.repair.approved",
            decider,
            self.wd_after(request, 2, 10),
            {
                "request": request.id,
                "reasons": _REPAIR_APPROVED,
            },
            [request],
        )
        if approval is None:
            return None
        for m in list(f.measures):  # the joint measures end with the repair
            if m.data["until"] is None:
                self.emit(
                    "credit.measure.lifted",
                    m.source.split("/")[0],
                    self.wd_after(approval, 1, 5),
                    {"application": m.id},
                    [m, approval],
                )
                f.measures.remove(m)
        if rng.random() < 0.08:
            if rng.random() < 0.5:
                # a breached repair commitment: the ledger itself revokes the repair
                # (credit.repair.revoked from its system source, derived)
                self.emit(
                    "credit.commitment.breached",
                    "credit-platform",
                    self.days_after(approval, 30, 200),
                    {
                        "commitment": commitment.id,
                        "kind": "unfulfilled",
                        "basis": f"{_ORDER_58_TITLE}第十九条",
                        "document": self.doc("信用修复撤", approval.t),
                    },
                    [commitment, approval],
                )
            else:
                self.emit(
                    "credit.repair.revoked",
                    decider,
                    self.days_after(approval, 30, 200),
                    {
                        "approval": approval.id,
                        "reason": "经核查，修复申请材料不实，撤销修复决定，恢复公示",
                        "basis": f"{_ORDER_58_TITLE}第十九条",
                        "document": self.doc("信用修复撤", approval.t),
                    },
                    [approval],
                )
            return None
        if rng.random() < 0.3:
            self.emit(
                "credit.commitment.fulfilled",
                "credit-platform",
                self.days_after(approval, 180, 400),
                {"commitment": commitment.id},
                [commitment, approval],
            )
        return approval

    # -- the heavy life --------------------------------------------------------------

    def heavy(self) -> None:
        """Earlier ordinary findings, then serious ones with lists, measures and bans."""
        rng, s = self.rng, self.s
        for _ in range(rng.randint(2, 4)):
            self.some_finding(rng.choice(("minor", "general", "general")))
        serious_hi = date(2025, 9, 30)
        for k in range(rng.choice((1, 1, 2))):
            t = self.finding_time(hi=serious_hi if k == 0 else None)
            if t is None:
                continue
            if rng.random() < 0.25 and s.business:
                self.court(t)
                continue
            if rng.random() < 0.7:
                f = self.penalty(t, "serious", heavy=True)
            else:
                f = self.violation(t, "serious", heavy=True)
            if f is not None and not f.closed:
                self.listing(f)

    def court(self, t: int) -> None:
        """A dishonest judgment debtor (失信被执行人): the court's own restrictions."""
        rng = self.rng
        behaviour, facts, basis, sector = _COURT_VIOLATION
        ev = self.emit(
            "credit.violation.recorded",
            "court",
            t,
            {
                "behaviour": behaviour,
                "severity": "serious",
                "sector": sector,
                "basis": basis,
                "document": self.doc("court", t),
                "facts": facts,
            },
        )
        if ev is None:
            return
        f = _Finding(ev, {"serious"}, sector)
        if rng.random() < 0.5:
            self.person(self.wd_after(ev, 1, 5), "court", "legal-representative", [ev])
        measures: list[_Ev | None] = [
            self.emit(
                "credit.measure.applied",
                "court",
                self.wd_after(ev, 1, 3),
                {
                    "measure": code,
                    "finding": ev.id,
                    "until": None,
                    "basis": "《最高人民法院关于限制被执行人高消费及有关消费的若干规定》第三条",
                    "document": ev.data["document"],
                },
                [ev],
            )
            for code in ("flight-restriction", "high-speed-rail-restriction")
        ]
        if rng.random() < 0.1 and measures[0] is not None:
            m = measures[0]
            filed = self.emit(
                "credit.objection.filed",
                "credit-platform",
                self.days_after(m, 5, 20),
                {
                    "target": m.id,
                    "grounds": "已与申请执行人达成和解并履行完毕，不应再限制乘坐飞机",
                },
                [m],
            )
            if filed is not None:
                upheld = rng.random() < 0.5
                res = self.emit(
                    "credit.objection.resolved",
                    "court",
                    self.wd_after(filed, 1, 5),
                    {
                        "objection": filed.id,
                        "outcome": "upheld" if upheld else "rejected",
                        "reasons": "经核查，被执行人已履行完毕，异议成立"
                        if upheld
                        else "经核查，被执行人尚未履行生效法律文书确定的全部义务",
                    },
                    [filed],
                )
                if (
                    upheld
                    and self.emit(
                        "credit.record.revoked",
                        "court",
                        self.wd_after(res.t, 1, 3) if res else None,
                        {
                            "target": m.id,
                            "reason": "异议成立，撤销限制消费措施",
                        },
                        [m, res, *self.after_all(m)],
                    )
                    is not None
                ):
                    measures[0] = None
        if rng.random() < 0.45:  # the debtor performs: restrictions lifted
            paid = self.days_after(ev, 60, 500)
            for applied in measures:
                if applied is not None and paid is not None:
                    self.emit(
                        "credit.measure.lifted",
                        "court",
                        paid + rng.randint(0, 3600) * _US,
                        {"application": applied.id},
                        [applied],
                    )
        elif rng.random() < 0.3:
            self.repair(f)

    def listing(self, f: _Finding) -> None:
        """list.proposed → (notice, maybe objection) → designated → measures, ban,
        person → removed (revoked, repaired or expired)."""
        rng, ev = self.rng, f.ev
        agency = ev.source.split("/")[0]
        name = "serious-dishonesty" if rng.random() < 0.75 else "focus"
        if f.severities != {"serious"}:
            name = "focus"  # serious-dishonesty rests on a (still) serious finding only
        t_prop = self.wd_after(ev, 5, 40)
        years = rng.choice((1, 2, 3)) if name == "serious-dishonesty" else 1
        planned_end = _add_months(_day_of(t_prop), 12 * years)
        prop = self.emit(
            "credit.list.proposed",
            "ndrc",
            t_prop,
            {
                "list": name,
                "finding": ev.id,
                "planned_end": planned_end.isoformat(),
                "basis": f"{_ORDER_58_TITLE}第十二条"
                if name == "serious-dishonesty"
                else "《市场监督管理严重违法失信名单管理办法》第二十条",
                "document": self.doc("发改信用告", t_prop),
            },
            [ev],
        )
        if prop is None:
            return
        deps: list[_Ev | None] = [prop]
        if rng.random() < 0.6:  # responsible person, before the designation
            p = self.person(
                self.wd_after(prop, 1, 5),
                "ndrc",
                rng.choice(("legal-representative", "actual-controller", "principal")),
                [ev, prop],  # linked by the agency that proposed the listing, after it
            )
            if p is not None:
                deps.append(p)
        if rng.random() < 0.12:  # objection within the notice period
            filed = self.emit(
                "credit.objection.filed",
                "credit-platform",
                self.wd_after(prop, 1, 7),
                {
                    "target": prop.id,
                    "grounds": "拟列入名单的认定依据不足，相关违法行为已整改到位",
                },
                [prop],
            )
            if filed is not None:
                upheld = rng.random() < 0.35
                res = self.emit(
                    "credit.objection.resolved",
                    "ndrc",
                    self.wd_after(filed, 1, 5),
                    {
                        "objection": filed.id,
                        "outcome": "upheld" if upheld else "rejected",
                        "reasons": "异议成立，不予列入名单"
                        if upheld
                        else "经核查，符合列入严重失信主体名单的情形，异议不成立",
                    },
                    [filed],
                )
                if res is None:
                    return
                if upheld:
                    self.emit(
                        "credit.record.revoked",
                        "ndrc",
                        self.wd_after(res, 1, 3),
                        {
                            "target": prop.id,
                            "reason": "异议成立，撤销列入名单的告知",
                        },
                        [prop, res, *self.after_all(prop)],
                    )
                    return
                deps.append(res)
        t_des = self.days_after(prop, 15, 40)
        des = self.emit(
            "credit.list.designated",
            "ndrc",
            t_des,
            {
                "proposal": prop.id,
                "basis": prop.data["basis"],
                "document": self.doc("发改信用", t_des or prop.t),
            },
            deps,
        )
        if des is None:
            return
        measures: list[_Ev] = []
        codes = _MEASURES_SERIOUS if name == "serious-dishonesty" else _MEASURES_FOCUS
        for code in rng.sample(codes, rng.randint(2, min(4, len(codes)))):
            until = planned_end if rng.random() < 0.6 else None
            m = self.emit(
                "credit.measure.applied",
                "ndrc",
                self.wd_after(des, 1, 10),
                {
                    "measure": code,
                    "finding": des.id,
                    "until": until.isoformat() if until else None,
                    "basis": "《全国失信惩戒措施基础清单》",
                    "document": des.data["document"],
                },
                [des],
            )
            if m is not None:
                measures.append(m)
        if rng.random() < 0.5 and f.sector in {
            "food",
            "special-equipment",
            "work-safety",
            "environment",
            "product-quality",
            "tax",
        }:
            # a permanent ban only where the law allows one (食品安全法 第一百三十五条)
            permanent = rng.random() < 0.3 and f.sector == "food"
            until = None if permanent else _add_months(des.day, 12 * rng.choice((3, 5, 10)))
            grounds = des if rng.random() < 0.5 else ev
            ban = self.emit(
                "credit.ban.imposed",
                agency,
                self.wd_after(des, 1, 12),
                {
                    "sector": f.sector,
                    "finding": grounds.id,
                    "until": until.isoformat() if until else None,
                    "basis": "《中华人民共和国食品安全法》第一百三十五条"
                    if f.sector == "food"
                    else "《中华人民共和国安全生产法》第一百一十四条",
                    "document": self.doc("禁入", des.t),
                },
                [grounds, des],
            )
            if ban is not None and rng.random() < 0.3:
                self.emit(
                    "credit.ban.lifted",
                    agency,
                    self.days_after(ban, 120, 700),
                    {
                        "ban": ban.id,
                        "reason": "经复查，原禁入决定依法变更",
                    },
                    [ban],
                )
        # how the listing ends
        x = rng.random()
        removal: _Ev | None = None
        if x < 0.12:  # objection against the designation, upheld or not
            filed = self.emit(
                "credit.objection.filed",
                "credit-platform",
                self.days_after(des, 30, 90),
                {
                    "target": des.id,
                    "grounds": "名单认定所依据的行政处罚决定已被变更",
                },
                [des],
            )
            upheld = rng.random() < 0.5
            res = self.emit(
                "credit.objection.resolved",
                "ndrc",
                self.wd_after(filed, 1, 5) if filed else None,
                {
                    "objection": filed.id if filed else "",
                    "outcome": "upheld" if upheld else "rejected",
                    "reasons": "经核查，列入依据已变更，异议成立，移出名单"
                    if upheld
                    else "经核查，列入名单依据充分，异议不成立",
                },
                [filed],
            )
            if upheld and res is not None:
                removal = self.emit(
                    "credit.list.removed",
                    "ndrc",
                    self.wd_after(res, 1, 3),
                    {
                        "designation": des.id,
                        "reason": "revoked",
                    },
                    [des, res],
                )
        elif x < 0.5 and _add_months(des.day, 13) < planned_end:
            lf = _Finding(des, {"serious"}, f.sector, f.rect_order, f.rect_done)
            approval = self.repair(
                lf,
                lo_day=f.rect_done.day if f.rect_done else None,
                hi_day=planned_end - timedelta(days=30),
            )
            if approval is not None and approval.day < planned_end:
                removal = self.emit(
                    "credit.list.removed",
                    "ndrc",
                    self.wd_after(approval, 1, 5),
                    {
                        "designation": des.id,
                        "reason": "repaired",
                    },
                    [des, approval],
                )
        if removal is None and planned_end < _day_of(_NOW_US):
            after = _us_at(planned_end, 43_200)
            removal = self.emit(
                "credit.list.removed",
                "ndrc",
                self.wd_after(after, 1, 5),
                {
                    "designation": des.id,
                    "reason": "expired",
                },
                [des],
            )
            if removal is not None:
                for m in measures:
                    if m.data["until"] is None:
                        self.emit(
                            "credit.measure.lifted",
                            "ndrc",
                            removal.t + rng.randint(600, 7200) * _US,
                            {"application": m.id},
                            [m, removal],
                        )
                return
        if removal is not None:
            for m in measures:
                self.emit(
                    "credit.measure.lifted",
                    "ndrc",
                    removal.t + rng.randint(600, 7200) * _US,
                    {"application": m.id},
                    [m, removal],
                )


_SPOT_CHECK_RATIOS = {
    "high": Decimal("0.30"),
    "medium-high": Decimal("0.10"),
    "medium": Decimal("0.02"),
    "low": Decimal("0.01"),
}
"""The Henan 2021 spot-check ratios (commands/rules/procedures.json, henan-2021)."""


def _tier(events: Sequence[_Ev], day: date) -> str:
    """A business's supervision tier on ``day`` from the weight of its findings in
    the two years before (minor 0, general 1, serious 3)."""
    weight = 0
    for ev in events:
        if ev.type in _FINDING_WEIGHT_TYPES and day - timedelta(days=730) <= ev.day < day:
            weight += {"minor": 0, "general": 1, "serious": 3}[ev.data.get("severity", "general")]
    return (
        "low"
        if weight == 0
        else "medium"
        if weight <= 1
        else "medium-high"
        if weight <= 3
        else "high"
    )


def _spot_checks(lives: list[tuple[_Subject, list[_Ev]]], seed: int) -> list[tuple[_Ev, _Subject]]:
    """The yearly spot-check draws of each region's market regulator."""
    out: list[tuple[_Ev, _Subject]] = []
    for year in (2024, 2025, 2026):
        day = _add_workdays(date(year, 3, 14), 1)
        for region in _REGIONS:
            local = [
                (s, evs) for s, evs in lives if s.region is region and s.business and s.start <= day
            ]
            population = {s.code: _tier(evs, day) for s, evs in local}
            draw_seed = (seed % 10**9) * 10_000 + year
            result = draw(population, _SPOT_CHECK_RATIOS, draw_seed)
            draw_id = f"samr-{region.code}-spot-check-{year}"
            subject_of = {s.code: s for s, _ in local}
            rng = random.Random(draw_seed)
            for tier, codes in result.drawn.items():
                for code in codes:
                    t = _us_at(day, 10 * 3600)
                    ev = _Ev(
                        f"{draw_id}/{code}",
                        SYSTEM_SOURCE,
                        "credit.inspection.selected",
                        t,
                        t + rng.randint(600, 7200) * _US + rng.randint(0, _US - 1),
                        {
                            "draw": draw_id,
                            "seed": draw_seed,
                            "tier": tier,
                            "ratio": str(_SPOT_CHECK_RATIOS[tier]),
                            "population": result.population[tier],
                            "drawn": len(codes),
                            "scheme": "henan-2021",
                            "agency": f"samr/{region.code}",
                        },
                    )
                    out.append((ev, subject_of[code]))
    return out


_LICENCES: tuple[tuple[str, str, str, str, str], ...] = (
    # agency, licence type, matter, legal basis, document-number kind
    (
        "samr",
        "食品经营许可",
        "预包装食品销售（含冷藏冷冻食品）",
        "《中华人民共和国食品安全法》第三十五条",
        "食经许",
    ),
    (
        "samr",
        "工业产品生产许可",
        "建筑用钢筋生产",
        "《中华人民共和国工业产品生产许可证管理条例》第二条",
        "产许",
    ),
    ("mee", "排污许可", "排放大气污染物、水污染物", "《排污许可管理条例》第二条", "排许"),
    (
        "samr",
        "特种设备生产许可",
        "压力管道元件制造",
        "《中华人民共和国特种设备安全法》第十八条",
        "特许",
    ),
    ("emergency", "安全生产许可", "危险化学品经营", "《安全生产许可证条例》第二条", "安许"),
)
_LICENCE_END_REASONS = ("经营者申请注销", "许可有效期届满未延续", "企业依法终止，许可注销")
_INCENTIVE_CODES = ("green-channel", "conditional-acceptance", "fewer-inspections", "credit-loan")
_INCENTIVE_BASIS = (
    "《国务院关于建立完善守信联合激励和失信联合惩戒制度的指导意见》（国发〔2016〕33号）"
)


def _positive_side(
    lives: list[tuple[_Subject, list[_Ev]]], counters: _Counters
) -> list[tuple[_Ev, _Subject]]:
    """Licences (行政许可: granted, sometimes changed, sometimes withdrawn) of businesses,
    and incentive measures (守信激励) for subjects graded 优 in their last two comprehensive
    evaluations without a finding. Generated after every other story, with their own
    random streams, so the ids and contents of the rest of the demo do not move."""
    out: list[tuple[_Ev, _Subject]] = []
    for subject, events in lives:
        story = _Story(subject, counters)
        story.rng = random.Random(subject.story_seed * 7 + 19)
        rng = story.rng
        if subject.business:
            for _ in range(rng.choice((0, 1, 1, 2))):
                agency, kind, matter, basis, doc = rng.choice(_LICENCES)
                t = story.finding_time()
                if t is None:
                    continue
                years = rng.choice((3, 5, 5))
                granted = story.emit(
                    "credit.license.granted",
                    agency,
                    t,
                    {
                        "license_type": kind,
                        "matter": matter,
                        "valid_until": (_day_of(t) + timedelta(days=365 * years - 1)).isoformat(),
                        "basis": basis,
                        "document": story.doc(doc, t),
                    },
                )
                if granted is None:
                    continue
                if rng.random() < 0.2:
                    story.emit(
                        "credit.license.changed",
                        agency,
                        story.days_after(granted, 60, 500),
                        {
                            "license": granted.id,
                            "changes": {"matter": matter + "（变更后增加经营项目）"},
                        },
                        [granted],
                    )
                if rng.random() < 0.12:
                    story.emit(
                        "credit.license.revoked",
                        agency,
                        story.days_after(granted, 200, 900),
                        {"license": granted.id, "reason": rng.choice(_LICENCE_END_REASONS)},
                        [*story.after_all(granted), granted],
                    )
        grades = [
            e
            for e in sorted(events, key=lambda e: e.t)
            if e.type == "credit.evaluation.published"
            and e.data.get("scheme") == "national-comprehensive"
        ]
        clean = not any(e.type in _FINDING_WEIGHT_TYPES for e in events)
        if clean and len(grades) >= 2 and all(g.data["grade"] == "优" for g in grades[-2:]):
            last = grades[-1]
            grant = story.emit(
                "credit.incentive.granted",
                "credit-platform",
                story.days_after(last, 10, 60),
                {
                    "measure": rng.choice(_INCENTIVE_CODES),
                    "basis": _INCENTIVE_BASIS,
                    "until": last.data["valid_until"],
                },
                [last],
            )
            if grant is not None and rng.random() < 0.25:
                story.emit(
                    "credit.incentive.ended",
                    "credit-platform",
                    story.days_after(grant, 60, 300),
                    {"grant": grant.id, "reason": "主体申请终止该项激励措施"},
                    [grant],
                )
        out.extend((ev, subject) for ev in story.events)
    return out


def _first_event_names(events: Iterable[_Ev], subject_of: dict[str, _Subject]) -> None:
    """Put ``subject_name`` into each subject's first event (in recorded order)."""
    seen: set[str] = set()
    for ev in events:
        s = subject_of[ev.id]
        if s.code not in seen:
            seen.add(s.code)
            ev.data["subject_name"] = s.name


def generate(subjects: int = 1200, seed: int = 20261120) -> list[DemoEvent]:
    """The demo data set: ``subjects`` subjects' events, sorted by ``recorded_us``.

    Deterministic: the same arguments give identical output (only ``random.Random``
    instances derived from ``seed`` are used; no clock, no I/O). The defaults give
    about 1,200 subjects and more than 20,000 events covering every event type. See the
    module docstring for the guarantees.
    """
    if subjects < 1:
        raise ValueError("subjects must be at least 1")
    counters = _Counters()
    pairs: list[tuple[_Ev, _Subject]] = []
    lives: list[tuple[_Subject, list[_Ev]]] = []
    for subject in _subjects(subjects, seed):
        events = _Story(subject, counters).run()
        lives.append((subject, events))
        pairs.extend((ev, subject) for ev in events)
    pairs.extend(_spot_checks(lives, seed))
    pairs.extend(_positive_side(lives, counters))
    pairs.sort(key=lambda p: p[0].r)
    subject_of = {ev.id: s for ev, s in pairs}
    _first_event_names((ev for ev, _ in pairs), subject_of)
    return [
        DemoEvent(
            {
                "specversion": "1.0",
                "id": ev.id,
                "source": ev.source,
                "type": ev.type,
                "subject": s.code,
                "time": _rfc3339(ev.t),
                "datacontenttype": "application/json",
                "data": ev.data,
            },
            ev.r,
        )
        for ev, s in pairs
    ]


def example_subject(events: Sequence[DemoEvent]) -> str:
    """The demo's example subject, the one README and ``ledger demo`` name: the
    subject whose history shows the most — most distinct event types, then most
    events, then the smallest code (deterministic for a given data set)."""
    types: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for d in events:
        code = d.event["subject"]
        types.setdefault(code, set()).add(d.event["type"])
        counts[code] = counts.get(code, 0) + 1
    return min(types, key=lambda code: (-len(types[code]), -counts[code], code))


def agencies() -> frozenset[str]:
    """Every agency ``source`` the demo may emit: each agency kind it uses, at each of its
    regions (the prefecture-level code its subjects carry)."""
    return frozenset(f"{kind}/{r.code}" for kind in _DOC_PREFIX for r in _REGIONS)
