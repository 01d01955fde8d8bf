"""One valid CloudEvent per event type, telling one subject's story in order.

``STORY`` is the whole story of subject 91440300708461136T from samr/440300
(the spot-check selection from the ledger's system source, so ``system=True``):
complete, valid events in chronological order, every reference pointing at an
earlier event, and every step allowed by the workflow rules of ``commands/``
(so submitting ``STORY`` in order records every event). ``SAMPLES`` maps each
type to the FIRST event of that type in the story. A few steps need an event of
a type that already has its sample (the rejected repair request is followed by
a second request, which is approved; the fulfilled and the withdrawn
commitments are other commitments than the repair commitment that is breached):
those extra events carry ids with a letter suffix (``samr-440300-0018a``) so
the numbered ids stay stable, and they are in ``STORY`` only. A sample's
reference may therefore name an event of ``STORY`` that is not a sample. Tests
copy before mutating: treat these as read-only.
"""

from __future__ import annotations

from typing import Any

SUBJECT = "91440300708461136T"
SOURCE = "samr/440300"
BASIS = "《中华人民共和国食品安全法》第一百二十四条"

_STORY: list[tuple[str, str, dict[str, Any]] | tuple[str, str, dict[str, Any], str]] = [
    (
        "credit.registration.submitted",
        "2023-03-01T09:00:00+08:00",
        {"category": "certificate", "description": "ISO 9001 质量管理体系认证证书"},
    ),
    (
        "credit.person.linked",
        "2023-03-02T09:00:00+08:00",
        {"role": "legal-representative", "name": "张三", "id_number": "11010519491231002X"},
    ),
    (
        "credit.evaluation.published",
        "2023-04-01T00:00:00+08:00",
        {"scheme": "公共信用综合评价", "grade": "良", "valid_until": "2024-03-31"},
    ),
    (
        "credit.violation.recorded",
        "2024-01-10T10:00:00+08:00",
        {
            "behaviour": "FOOD-0203",
            "severity": "general",
            "sector": "food",
            "basis": BASIS,
            "document": "深市监认〔2024〕3号",
        },
    ),
    (
        "credit.objection.filed",
        "2024-01-15T14:30:00+08:00",
        {"target": "samr-440300-0004", "grounds": "违法行为代码认定有误"},
    ),
    (
        "credit.objection.resolved",
        "2024-01-19T16:00:00+08:00",
        {"objection": "samr-440300-0005", "outcome": "upheld", "reasons": "核实后应为 FOOD-0201"},
    ),
    (
        "credit.record.corrected",
        "2024-01-19T16:30:00+08:00",
        {"target": "samr-440300-0004", "changes": {"behaviour": "FOOD-0201"}},
    ),
    (
        "credit.penalty.decided",
        "2024-01-20T10:00:00+08:00",
        {
            "kinds": ["fine", "confiscation"],
            "amount": "150000.00",
            "procedure": "ordinary",
            "severity": "serious",
            "sector": "food",
            "basis": BASIS,
            "document": "深市监罚〔2024〕18号",
        },
    ),
    (
        "credit.rectification.ordered",
        "2024-01-20T10:30:00+08:00",
        {
            "finding": "samr-440300-0008",
            "deadline": "2024-02-20",
            "document": "深市监责改〔2024〕7号",
        },
    ),
    (
        "credit.interview.held",
        "2024-01-25T09:30:00+08:00",
        {"finding": "samr-440300-0008", "kind": "warning"},
    ),
    (
        "credit.list.proposed",
        "2024-02-01T10:00:00+08:00",
        {
            "list": "serious-dishonesty",
            "finding": "samr-440300-0008",
            "planned_end": "2027-02-01",
            "basis": "《市场监督管理严重违法失信名单管理办法》第二条",
            "document": "深市监告〔2024〕2号",
        },
    ),
    (
        "credit.rectification.completed",
        "2024-02-18T15:00:00+08:00",
        {"rectification": "samr-440300-0009"},
    ),
    (
        "credit.list.designated",
        "2024-03-01T10:00:00+08:00",
        {
            "proposal": "samr-440300-0011",
            "basis": "《市场监督管理严重违法失信名单管理办法》第十三条",
            "document": "深市监列〔2024〕2号",
        },
    ),
    (
        "credit.measure.applied",
        "2024-03-01T10:30:00+08:00",
        {
            "measure": "fiscal-funds-restriction",
            "finding": "samr-440300-0013",
            "until": "2027-02-01",
            "basis": "国办发〔2019〕35号 第十二条",
            "document": "深市监列〔2024〕2号",
        },
    ),
    (
        "credit.ban.imposed",
        "2024-03-01T11:00:00+08:00",
        {
            "sector": "食品生产",
            "finding": "samr-440300-0008",
            "until": "2025-02-28",
            "basis": "《中华人民共和国食品安全法》第一百三十五条",
            "document": "深市监禁〔2024〕1号",
        },
    ),
    (
        "credit.commitment.made",
        "2024-05-06T09:00:00+08:00",
        {"commitment_type": "repair", "matter": "信用修复承诺书", "due": None},
    ),
    (
        "credit.repair.requested",
        "2024-05-08T09:00:00+08:00",
        {"target": "samr-440300-0008", "methods": ["commitment", "rectification", "training"]},
    ),
    (
        "credit.repair.rejected",
        "2024-05-15T17:00:00+08:00",
        {"request": "samr-440300-0017", "reasons": "培训证明材料不全"},
    ),
    (
        "credit.repair.requested",
        "2024-05-22T09:00:00+08:00",
        {"target": "samr-440300-0008", "methods": ["commitment", "rectification", "training"]},
        "samr-440300-0018a",
    ),
    (
        "credit.repair.approved",
        "2024-05-29T17:00:00+08:00",
        {"request": "samr-440300-0018a", "reasons": "补正材料后符合修复条件"},
    ),
    (
        "credit.measure.lifted",
        "2024-05-30T09:00:00+08:00",
        {"application": "samr-440300-0014"},
    ),
    ("credit.ban.lifted", "2024-05-30T09:10:00+08:00", {"ban": "samr-440300-0015"}),
    (
        "credit.list.removed",
        "2024-05-30T09:20:00+08:00",
        {"designation": "samr-440300-0013", "reason": "repaired"},
    ),
    (
        "credit.commitment.made",
        "2024-06-03T09:00:00+08:00",
        {
            "commitment_type": "approval-substitute",
            "matter": "食品经营许可（容缺受理）",
            "due": "2024-07-05",
        },
        "samr-440300-0022a",
    ),
    (
        "credit.commitment.fulfilled",
        "2024-06-30T09:00:00+08:00",
        {"commitment": "samr-440300-0022a"},
    ),
    # the agency revokes the repair first (materials found false); the breach that
    # follows then has no standing repair left to revoke (else the ledger would
    # derive the revocation itself)
    (
        "credit.repair.revoked",
        "2024-09-09T10:00:00+08:00",
        {"approval": "samr-440300-0019", "reason": "信用修复承诺不实"},
    ),
    (
        "credit.commitment.breached",
        "2024-09-10T10:00:00+08:00",
        {"commitment": "samr-440300-0016", "kind": "false"},
    ),
    (
        "credit.commitment.made",
        "2024-09-20T09:00:00+08:00",
        {"commitment_type": "voluntary", "matter": "市场主体年度信用承诺书", "due": None},
        "samr-440300-0025a",
    ),
    (
        "credit.commitment.withdrawn",
        "2024-10-08T09:00:00+08:00",
        {"commitment": "samr-440300-0025a"},
    ),
    (
        "credit.penalty.withdrawn",
        "2024-11-01T10:00:00+08:00",
        {"penalty": "samr-440300-0008", "reason": "行政复议决定撤销原处罚决定"},
    ),
    (
        "credit.record.revoked",
        "2024-12-02T10:00:00+08:00",
        {"target": "samr-440300-0001", "reason": "认证证书已被发证机构撤销"},
    ),
    (
        "credit.inspection.selected",
        "2024-12-10T09:00:00+08:00",
        {
            "draw": "spot-check-2024-12-10-20241210",
            "seed": 20241210,
            "tier": "high",
            "ratio": "0.30",
        },
    ),
    (
        "credit.license.granted",
        "2024-12-16T09:00:00+08:00",
        {
            "license_type": "食品经营许可",
            "matter": "预包装食品销售（含冷藏冷冻食品）",
            "valid_until": "2029-12-31",
            "basis": "《中华人民共和国食品安全法》第三十五条",
            "document": "JY14403050012345",
        },
    ),
    (
        "credit.license.changed",
        "2024-12-18T09:00:00+08:00",
        {"license": "samr-440300-0030", "changes": {"matter": "预包装食品销售、散装食品销售"}},
    ),
    (
        "credit.license.revoked",
        "2024-12-20T09:00:00+08:00",
        {"license": "samr-440300-0030", "reason": "经营者申请注销"},
    ),
    (
        "credit.incentive.granted",
        "2024-12-23T09:00:00+08:00",
        {
            "measure": "green-channel",
            "basis": "《国务院关于建立完善守信联合激励和失信联合惩戒制度的指导意见》（国发〔2016〕33号）",
            "until": "2026-06-30",
        },
    ),
    (
        "credit.incentive.ended",
        "2024-12-27T09:00:00+08:00",
        {"grant": "samr-440300-0033", "reason": "主体不再符合守信激励条件"},
    ),
]


SYSTEM_SOURCE = "credit-ledger/system"
"""The spot-check selection is the ledger's own (DOMAIN.md "Who may record what"):
submit ``STORY`` with ``system=True``."""


def _event(event_id: str, type_name: str, time: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": SYSTEM_SOURCE if type_name == "credit.inspection.selected" else SOURCE,
        "type": type_name,
        "subject": SUBJECT,
        "time": time,
        "datacontenttype": "application/json",
        "data": data,
    }


def _story() -> list[dict[str, Any]]:
    events = []
    number = 0
    for entry in _STORY:
        type_name, time, data = entry[:3]
        if len(entry) == 4:
            event_id = entry[3]
        else:
            number += 1
            event_id = f"samr-440300-{number:04d}"
        events.append(_event(event_id, type_name, time, data))
    return events


STORY: list[dict[str, Any]] = _story()
"""The whole story, in order: every event is accepted when submitted in this order."""

SAMPLES: dict[str, dict[str, Any]] = {}
"""Event type → one full, valid CloudEvent of that type (its first in ``STORY``)."""
for _sample in STORY:
    SAMPLES.setdefault(_sample["type"], _sample)
