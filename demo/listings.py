"""Heavy lives: serious findings, the court's dishonest judgment debtors (失信被执行人)
with their restrictions, and listings (proposal → notice → designation → measures,
bans, persons → removal by objection, repair or expiry).

Contract: an objection against a proposal is filed within the procedures' list notice
window (``Procedures.list_notice``) and the designation follows once that window has
closed; a serious-dishonesty listing lasts no longer than the criteria in force allow
(``lists.*.max_months``); a ban is permanent only on a basis the criteria name
(``bans.permanent_bases``); objections are decided within the region's deadline.
"""

from __future__ import annotations

from datetime import date, timedelta

from commands.rulesets import NoRuleSet
from demo.days import _NOW_US, _US, _add_months, _day_of, _us_at
from demo.findings import FindingStory
from demo.story import Draft, Finding
from demo.templates import _COURT_VIOLATION, _MEASURES_FOCUS, _MEASURES_SERIOUS, _ORDER_58_TITLE


class ListingStory(FindingStory):
    """Serious findings, court judgments and listings."""

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
        f = Finding(ev, {"serious"}, sector)
        if rng.random() < 0.5:
            self.person(self.wd_after(ev, 1, 5), "court", "legal-representative", [ev])
        measures: list[Draft | None] = [
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
            _, res, upheld = self.objection(
                m,
                self.days_after(m, 5, 20),
                "已与申请执行人达成和解并履行完毕，不应再限制乘坐飞机",
                "court",
                0.5,
                "经核查，被执行人已履行完毕，异议成立",
                "经核查，被执行人尚未履行生效法律文书确定的全部义务",
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

    def listing(self, f: Finding) -> None:
        """list.proposed → (notice, maybe objection) → designated → measures, ban,
        person → removed (revoked, repaired or expired)."""
        rng, ev = self.rng, f.ev
        agency = ev.source.split("/")[0]
        name = "serious-dishonesty" if rng.random() < 0.75 else "focus"
        if f.severities != {"serious"}:
            name = "focus"  # serious-dishonesty rests on a (still) serious finding only
        t_prop = self.wd_after(ev, 5, 40)
        years = rng.choice(self.list_terms(name, ev)) if name == "serious-dishonesty" else 1
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
        deps: list[Draft | None] = [prop]
        if rng.random() < 0.6:  # responsible person, before the designation
            p = self.person(
                self.wd_after(prop, 1, 5),
                "ndrc",
                rng.choice(("legal-representative", "actual-controller", "principal")),
                [ev, prop],  # linked by the agency that proposed the listing, after it
            )
            if p is not None:
                deps.append(p)
        notice = self.rules.procedures.list_notice
        notice_days = notice.working_days if notice is not None else 5
        if rng.random() < 0.12:  # objection within the notice period
            filed, res, upheld = self.objection(
                prop,
                self.wd_after(prop, 1, notice_days),
                "拟列入名单的认定依据不足，相关违法行为已整改到位",
                "ndrc",
                0.35,
                "异议成立，不予列入名单",
                "经核查，符合列入严重失信主体名单的情形，异议不成立",
            )
            if filed is not None:
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
        # designated 15–40 days after the proposal, once its notice window has closed
        notice_closed = self.shared.days.add(prop.day, notice_days)
        t_des = self.between(
            max(prop.day + timedelta(days=15), notice_closed + timedelta(days=1)),
            prop.day + timedelta(days=40),
        )
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
        measures: list[Draft] = []
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
            basis = (
                "《中华人民共和国食品安全法》第一百三十五条"
                if f.sector == "food"
                else "《中华人民共和国安全生产法》第一百一十四条"
            )
            permanent = rng.random() < 0.3 and self.permanent_ban_allowed(basis, des)
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
                    "basis": basis,
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
        removal: Draft | None = None
        if x < 0.12:  # objection against the designation, upheld or not
            filed, res, upheld = self.objection(
                des,
                self.days_after(des, 30, 90),
                "名单认定所依据的行政处罚决定已被变更",
                "ndrc",
                0.5,
                "经核查，列入依据已变更，异议成立，移出名单",
                "经核查，列入名单依据充分，异议不成立",
            )
            if filed is None:
                rng.random()  # the outcome drawn for no filing: the seeded demo stays the same
            if upheld and res is not None:
                removal = self.removed(des, self.wd_after(res, 1, 3), "revoked", [des, res])
        elif x < 0.5 and _add_months(des.day, 13) < planned_end:
            lf = Finding(des, {"serious"}, f.sector, f.rect_order, f.rect_done)
            approval = self.repair(
                lf,
                lo_day=f.rect_done.day if f.rect_done else None,
                hi_day=planned_end - timedelta(days=30),
            )
            if approval is not None and approval.day < planned_end:
                removal = self.removed(
                    des, self.wd_after(approval, 1, 5), "repaired", [des, approval]
                )
        expired = False
        if removal is None and planned_end < _day_of(_NOW_US):
            after = _us_at(planned_end, 43_200)
            expired = True
            removal = self.removed(des, self.wd_after(after, 1, 5), "expired", [des])
        if removal is not None:
            for m in measures:
                if expired and m.data["until"] is not None:
                    continue  # an expired listing's dated measures end on their own day
                self.emit(
                    "credit.measure.lifted",
                    "ndrc",
                    removal.t + rng.randint(600, 7200) * _US,
                    {"application": m.id},
                    [m, removal],
                )

    def removed(
        self, des: Draft, t: int | None, reason: str, deps: list[Draft | None]
    ) -> Draft | None:
        """The designation ``des`` taken off its list at ``t`` (``revoked``, ``repaired``
        or ``expired``), after ``deps``."""
        return self.emit(
            "credit.list.removed", "ndrc", t, {"designation": des.id, "reason": reason}, deps
        )

    def list_terms(self, name: str, finding: Draft) -> tuple[int, ...]:
        """The listing terms in years (1, 2 or 3) the criteria of the rule set in force on
        the finding's day allow for list ``name`` in the subject's region
        (``max_months``); all three when the rule set has no criteria for it."""
        try:
            criteria = self.rules.rulebook.in_force(finding.day).criteria
        except NoRuleSet:
            return (1,)
        if criteria is None or name not in criteria.lists:
            return (1, 2, 3)
        most = criteria.lists[name].max_months_for(self.s.code)
        return tuple(y for y in (1, 2, 3) if 12 * y <= most) or (1,)

    def permanent_ban_allowed(self, basis: str, on: Draft) -> bool:
        """Whether the criteria in force on ``on``'s day allow a permanent ban on
        ``basis`` (it names one of ``bans.permanent_bases``)."""
        try:
            criteria = self.rules.rulebook.in_force(on.day).criteria
        except NoRuleSet:
            return False
        if criteria is None:
            return False
        return any(b in basis for b in criteria.bans.permanent_bases)
