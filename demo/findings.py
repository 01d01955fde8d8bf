"""Findings (penalties and violation records) and what follows them: objections with
their correction or revocation, rectification, interviews, withdrawals, late
corrections, measures and repair.

Contract: interviews and rectification orders come from the finding's agency
(谁认定、谁约谈); an objection is decided within the working days the subject's
region allows (:meth:`Story.objection_decided`, from the procedures); nothing refers
to a finding once it is revoked or withdrawn (``Finding.closed``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from demo.days import _US, _add_months, _day_of, _money
from demo.repair import RepairStory
from demo.story import Finding
from demo.templates import (
    _DOC_PREFIX,
    _GUIDELINE_35,
    _OBJECTION_GROUNDS,
    _OBJECTION_REJECT,
    _PENALTY_TEMPLATES,
    _SECTOR_AGENCY,
    _VIOLATIONS,
    _WITHDRAW_REASONS,
)


class FindingStory(RepairStory):
    """Penalties, violation records and what may follow each of them."""

    def some_finding(self, severity: str | None = None, t: int | None = None) -> Finding | None:
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
    ) -> Finding | None:
        """An administrative penalty decided at ``t`` in ``sector`` (default: one of the
        subject's) by the sector's agency, of a template that may carry ``severity`` (else
        a general one): simplified procedure and small amounts for minor ones. Then
        :meth:`follow`. None if nothing was decided."""
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
        head = {"kinds": kinds, "amount": amount, "procedure": procedure}
        finding = (severity, sector, basis, facts)
        return self.found("credit.penalty.decided", agency, t, kind, head, finding, heavy)

    def violation(self, t: int | None, severity: str, heavy: bool = False) -> Finding | None:
        """A violation record (失信行为认定) of the subject's sectors at ``t``, or a
        penalty when no template fits; then :meth:`follow`."""
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
        head = {"behaviour": behaviour}
        finding = (severity, sector, basis, facts)
        return self.found("credit.violation.recorded", agency, t, kind, head, finding, heavy)

    def found(
        self,
        type_: str,
        agency: str,
        t: int,
        kind: str,
        head: dict[str, Any],
        finding: tuple[str, str, str, str],
        heavy: bool,
    ) -> Finding | None:
        """A finding of ``type_`` by ``agency`` at ``t``: its ``data`` is ``head``, then the
        ``finding``'s severity, sector, basis, a document number of ``kind`` and facts;
        then :meth:`follow`. None if it would lie after DEMO_NOW."""
        severity, sector, basis, facts = finding
        ev = self.emit(
            type_,
            agency,
            t,
            {
                **head,
                "severity": severity,
                "sector": sector,
                "basis": basis,
                "document": self.doc(kind, t),
                "facts": facts,
            },
        )
        if ev is None:
            return None
        found = Finding(ev, {severity}, sector)
        self.follow(found, heavy)
        return found

    def follow(self, f: Finding, heavy: bool = False) -> None:
        """What may follow a finding: objection and correction or revocation,
        rectification, interview, withdrawal, late correction, measures, repair."""
        rng, ev = self.rng, f.ev
        severity = max(f.severities, key=("minor", "general", "serious").index)
        agency = ev.source.split("/")[0]
        # objection within weeks, resolved within 5 working days
        if rng.random() < (0.13 if severity != "minor" else 0.05):
            at = self.days_after(ev, 5, 30)
            _, resolved, upheld = self.objection(
                ev,
                at,
                rng.choice(_OBJECTION_GROUNDS),
                agency,
                0.4,
                "经核查，异议理由成立，予以更正",
                _OBJECTION_REJECT,
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

    def changes(self, f: Finding, safe: bool = False) -> dict[str, Any] | None:
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
