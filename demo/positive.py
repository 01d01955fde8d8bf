"""The positive side: licences (行政许可) of businesses and incentive measures
(守信激励) for subjects graded 优 twice without a finding.

Generated after every other story, each subject with its own random stream
(``story_seed * 7 + 19``), so adding or changing it moves no id or content of the
rest of the demo.
"""

from __future__ import annotations

import random
from datetime import timedelta

from demo.days import _day_of
from demo.identities import Subject
from demo.story import Draft, Shared, Story
from demo.templates import _FINDING_WEIGHT_TYPES

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


def positive_side(
    lives: list[tuple[Subject, list[Draft]]], shared: Shared
) -> list[tuple[Draft, Subject]]:
    """Licences (行政许可: granted, sometimes changed, sometimes withdrawn) of businesses,
    and incentive measures (守信激励) for subjects graded 优 in their last two comprehensive
    evaluations without a finding. Generated after every other story, with their own
    random streams, so the ids and contents of the rest of the demo do not move."""
    out: list[tuple[Draft, Subject]] = []
    for subject, events in lives:
        story = Story(subject, shared)
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
