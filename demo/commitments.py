"""The subject's own word and its grades: commitments (告知承诺, voluntary, industry)
and how they end, registrations of honours and certificates, and the yearly
evaluations graded by the findings before them.

Contract: a conditional approval-substitute commitment is due 10–30 working days
after it is made (the rule services' working days); left open past its due day it is
for the ledger's deadline job to breach; a breached commitment is followed like any
finding (:meth:`demo.findings.FindingStory.follow`).
"""

from __future__ import annotations

from datetime import date, timedelta

from demo.days import DEMO_START, _day_of, _money, _us_at
from demo.findings import FindingStory
from demo.story import Finding
from demo.templates import (
    _DOC_PREFIX,
    _GUIDELINE_35,
    _MATTERS,
    _ORGAN_MATTERS,
    _VOLUNTARY_MATTERS,
)


class CommitmentStory(FindingStory):
    """Commitments, registrations and evaluations."""

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
        """Honours and certificates the subject registers with the credit platform
        (信用信息自主申报): more for clean lives."""
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
        due = self.shared.days.add(day, rng.randint(10, 30)) if conditional else None
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
                    self.follow(Finding(breach, {"general"}, None))
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
                self.follow(Finding(breach, {"general"}, None))
