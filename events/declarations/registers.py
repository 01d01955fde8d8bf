"""What the ledger registers besides findings: responsible persons, voluntary
registrations (自愿注册), evaluations (综合评价), spot-check selections (双随机),
licences (行政许可) and incentives (守信激励)."""

from events.catalogue import Declaration, Label, Relation, one
from events.models import (
    EvaluationPublished,
    IncentiveEnded,
    IncentiveGranted,
    InspectionSelected,
    LicenseChanged,
    LicenseGranted,
    LicenseRevoked,
    PersonLinked,
    RegistrationSubmitted,
)

_LICENSE = one("credit.license.granted")

DECLARATIONS = (
    Declaration(
        name="credit.person.linked",
        model=PersonLinked,
        label=Label("责任人关联", "person linked"),
        sample={"role": "legal-representative", "name": "张三", "id_number": "11010519491231002X"},
    ),
    Declaration(
        name="credit.registration.submitted",
        model=RegistrationSubmitted,
        label=Label("自愿注册", "registration submitted"),
        sample={"category": "certificate", "description": "ISO 9001 质量管理体系认证证书"},
    ),
    Declaration(
        name="credit.evaluation.published",
        model=EvaluationPublished,
        label=Label("综合评价", "evaluation published"),
        sample={"scheme": "公共信用综合评价", "grade": "良", "valid_until": "2024-03-31"},
    ),
    Declaration(
        name="credit.inspection.selected",
        model=InspectionSelected,
        label=Label("双随机抽查", "selected for a spot check"),
        sample={"draw": "draw-2024-1", "seed": 20240101, "tier": "B", "ratio": "0.30"},
    ),
    Declaration(
        name="credit.license.granted",
        model=LicenseGranted,
        label=Label("行政许可", "licence granted"),
        sample={
            "license_type": "食品经营许可",
            "matter": "预包装食品销售",
            "valid_until": "2028-12-31",
            "basis": "《中华人民共和国食品安全法》第三十五条",
            "document": "JY14403000000001",
        },
    ),
    Declaration(
        name="credit.license.changed",
        model=LicenseChanged,
        label=Label("许可变更", "licence changed"),
        sample={"license": "license-1", "changes": {"matter": "预包装食品、散装食品销售"}},
        references={"license": _LICENSE},
        relation=Relation(Label("变更", "changes"), Label("被变更", "changed by")),
    ),
    Declaration(
        name="credit.license.revoked",
        model=LicenseRevoked,
        label=Label("许可撤销", "licence revoked"),
        sample={"license": "license-1", "reason": "申请人以欺骗手段取得许可"},
        references={"license": _LICENSE},
        relation=Relation(Label("撤销", "revokes"), Label("被撤销", "revoked by")),
    ),
    Declaration(
        name="credit.incentive.granted",
        model=IncentiveGranted,
        label=Label("守信激励", "incentive granted"),
        sample={
            "measure": "green-channel",
            "basis": "国办发〔2016〕33号",
            "until": None,
        },
    ),
    Declaration(
        name="credit.incentive.ended",
        model=IncentiveEnded,
        label=Label("激励终止", "incentive ended"),
        sample={"grant": "incentive-1", "reason": "已移出守信激励对象名单"},
        references={"grant": one("credit.incentive.granted")},
        relation=Relation(Label("终止", "ends"), Label("被终止", "ended by")),
    ),
)
