"""Objections (异议), credit repair (信用修复) and the compensating records
(corrections and revocations)."""

from events.catalogue import (
    SANCTION_GROUNDS,
    Declaration,
    Label,
    Relation,
    Targets,
    one,
)
from events.models import (
    ObjectionFiled,
    ObjectionResolved,
    RecordCorrected,
    RecordRevoked,
    RepairApproved,
    RepairRejected,
    RepairRequested,
    RepairRevoked,
)

REVOKED = "credit.record.revoked"
_OBJECTABLE = Targets(every=True, except_kinds=frozenset({"objection", "repair", "record"}))
"""An objection is about a record, not about another objection, repair or correction."""
_CORRECTABLE = Targets(every=True, except_types=frozenset({REVOKED}))
"""Any record may be corrected or revoked, except a revocation."""
_REQUEST = one("credit.repair.requested")

DECLARATIONS = (
    Declaration(
        name="credit.objection.filed",
        model=ObjectionFiled,
        label=Label("异议申请", "objection filed"),
        sample={"target": "penalty-1", "grounds": "违法行为代码认定有误"},
        references={"target": _OBJECTABLE},
        relation=Relation(Label("异议针对", "objects to"), Label("异议", "objection")),
        not_after_revocation="target",
    ),
    Declaration(
        name="credit.objection.resolved",
        model=ObjectionResolved,
        label=Label("异议处理", "objection resolved"),
        sample={"objection": "objection-1", "outcome": "rejected", "reasons": "认定事实清楚"},
        references={"objection": one("credit.objection.filed")},
        relation=Relation(Label("处理异议", "resolves"), Label("异议处理", "resolved by")),
    ),
    Declaration(
        name="credit.repair.requested",
        model=RepairRequested,
        label=Label("信用修复申请", "repair requested"),
        sample={"target": "penalty-1", "methods": ["commitment", "rectification"]},
        references={"target": SANCTION_GROUNDS},
        relation=Relation(
            Label("申请修复", "asks repair of"), Label("修复申请", "repair requested by")
        ),
        not_after_revocation="target",
    ),
    Declaration(
        name="credit.repair.approved",
        model=RepairApproved,
        label=Label("信用修复通过", "repair approved"),
        sample={"request": "repair-1", "reasons": "已完成整改并作出信用承诺"},
        references={"request": _REQUEST},
        relation=Relation(Label("通过", "approves"), Label("修复通过", "approved by")),
    ),
    Declaration(
        name="credit.repair.rejected",
        model=RepairRejected,
        label=Label("信用修复驳回", "repair rejected"),
        sample={"request": "repair-1", "reasons": "未满最短公示期"},
        references={"request": _REQUEST},
        relation=Relation(Label("驳回", "rejects"), Label("修复驳回", "rejected by")),
    ),
    Declaration(
        name="credit.repair.revoked",
        model=RepairRevoked,
        label=Label("信用修复撤销", "repair revoked"),
        sample={"approval": "approval-1", "reason": "信用修复承诺未履行"},
        references={"approval": one("credit.repair.approved")},
        relation=Relation(
            Label("撤销修复", "revokes repair"), Label("修复被撤销", "repair revoked by")
        ),
    ),
    Declaration(
        name="credit.record.corrected",
        model=RecordCorrected,
        label=Label("记录更正", "record corrected"),
        sample={"target": "penalty-1", "changes": {"amount": "2000.00"}},
        references={"target": _CORRECTABLE},
        relation=Relation(Label("更正", "corrects"), Label("被更正", "corrected by")),
        not_after_revocation="target",
    ),
    Declaration(
        name=REVOKED,
        model=RecordRevoked,
        label=Label("记录撤销", "record revoked"),
        sample={"target": "penalty-1", "reason": "认定主体错误"},
        references={"target": _CORRECTABLE},
        relation=Relation(Label("撤销", "revokes"), Label("被撤销", "revoked by")),
        not_after_revocation="target",
    ),
)
