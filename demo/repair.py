"""Repair (信用修复) stories: a repair commitment, the request once the rule book allows
it, the decision (by the credit platform; a listing's by its 认定单位), the measures
that end with it, and now and then a revocation.

When repair may be asked for is the rule book's answer, not the demo's: see
:meth:`RepairStory.repair_from`.
"""

from __future__ import annotations

from datetime import date, timedelta

from commands.rulesets import NoRuleSet, period_for
from commands.workflows.repair import FAMILY_OF
from demo.days import _NOW_US, _day_of
from demo.story import Draft, Finding, Story
from demo.templates import _ORDER_58_TITLE, _REPAIR_APPROVED, _REPAIR_REJECT


class RepairStory(Story):
    """The repair of a finding or of a list designation."""

    def repair_from(self, f: Finding) -> date | None:
        """The first day the rule book lets ``f`` be repaired, or None when it has
        nothing to repair.

        Asks :func:`commands.rulesets.period_for` of the rule set in force on the
        record's day (the finding's, or a designation's own day) for the record's family
        (a designation: its finding's, at ``serious``; a breached commitment: a general
        violation, as :func:`commands.workflows.repair.repair_basis` measures it) and
        sector, once per severity the finding has carried (a correction may have lowered
        it): the latest day wins. None when any of them is not published (a minor finding
        under Order 36), when no rule set covers the day, or when the rule set does not
        wait for the minimum period (then the record's own day).
        """
        day = f.ev.day
        family = f.family or FAMILY_OF.get(f.ev.type, "violation")
        latest: date | None = None
        for severity in sorted(f.severities):
            try:
                rule_set, period = period_for(self.rules.rulebook, day, family, severity, f.sector)
            except NoRuleSet:
                return None
            if not period.publish:
                return None
            first = period.repair_from(day) if rule_set.repair.after_min_period else day
            latest = first if latest is None else max(latest, first)
        return latest

    def repair(
        self, f: Finding, lo_day: date | None = None, hi_day: date | None = None
    ) -> Draft | None:
        """Repair of a finding or designation: commitment, request, decision; maybe a
        revocation of the approval after the repair commitment is breached.

        The request comes 21–120 days after :meth:`repair_from` (and after
        ``lo_day`` and any completed rectification), never after ``hi_day``; nothing
        happens while a rectification ordered is not completed. Returns the approval,
        or None."""
        rng, ev = self.rng, f.ev
        allowed = self.repair_from(f)
        if allowed is None or f.closed:
            return None
        if f.rect_order is not None and f.rect_done is None:
            return None  # obligations unmet
        earliest = allowed + timedelta(days=rng.randint(21, 120))
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
