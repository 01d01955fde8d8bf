"""Findings of dishonest conduct (失信行为, 行政处罚) and what follows them (整改, 约谈)."""

from events.catalogue import FINDINGS, Declaration, Label, Relation, one
from events.models import (
    InterviewHeld,
    PenaltyDecided,
    PenaltyWithdrawn,
    RectificationCompleted,
    RectificationOrdered,
    ViolationRecorded,
)

_BASIS = "《中华人民共和国食品安全法》第一百二十四条"

DECLARATIONS = (
    Declaration(
        name="credit.violation.recorded",
        model=ViolationRecorded,
        label=Label("失信行为", "violation recorded"),
        sample={
            "behaviour": "FOOD-0203",
            "severity": "general",
            "sector": "food",
            "basis": _BASIS,
            "document": "深市监认〔2024〕3号",
        },
        finding=True,
    ),
    Declaration(
        name="credit.penalty.decided",
        model=PenaltyDecided,
        label=Label("行政处罚", "penalty decided"),
        sample={
            "kinds": ["fine"],
            "amount": "3000.00",
            "procedure": "ordinary",
            "severity": "general",
            "sector": "food",
            "basis": _BASIS,
            "document": "深市监罚〔2024〕12号",
        },
        finding=True,
    ),
    Declaration(
        name="credit.penalty.withdrawn",
        model=PenaltyWithdrawn,
        label=Label("处罚撤销", "penalty withdrawn"),
        sample={"penalty": "penalty-1", "reason": "行政复议撤销原处罚决定"},
        references={"penalty": one("credit.penalty.decided")},
        relation=Relation(Label("撤回", "withdraws"), Label("被撤回", "withdrawn by")),
    ),
    Declaration(
        name="credit.rectification.ordered",
        model=RectificationOrdered,
        label=Label("责令整改", "rectification ordered"),
        sample={"finding": "penalty-1", "deadline": "2024-03-31"},
        references={"finding": FINDINGS},
        relation=Relation(
            Label("责令整改", "orders rectification of"),
            Label("被责令整改", "rectification ordered by"),
        ),
        agency_bound="finding",
    ),
    Declaration(
        name="credit.rectification.completed",
        model=RectificationCompleted,
        label=Label("整改完成", "rectification completed"),
        sample={"rectification": "rectification-1"},
        references={"rectification": one("credit.rectification.ordered")},
        relation=Relation(Label("完成", "completes"), Label("已完成", "completed by")),
    ),
    Declaration(
        name="credit.interview.held",
        model=InterviewHeld,
        label=Label("信用约谈", "interview held"),
        sample={"finding": "penalty-1", "kind": "reminder"},
        references={"finding": FINDINGS},
        relation=Relation(Label("约谈事由", "interview about"), Label("约谈", "interview held by")),
        agency_bound="finding",
    ),
)
