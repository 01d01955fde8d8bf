"""Lists (名单), disciplinary measures (惩戒措施) and bans (市场和行业禁入)."""

from events.catalogue import (
    FINDINGS,
    SANCTION_GROUNDS,
    Declaration,
    Label,
    Relation,
    one,
)
from events.models import (
    BanImposed,
    BanLifted,
    ListDesignated,
    ListProposed,
    ListRemoved,
    MeasureApplied,
    MeasureLifted,
)

_BASIS = "《严重失信主体名单管理办法》第八条"
_LIFTS = Relation(Label("解除", "lifts"), Label("被解除", "lifted by"))

DECLARATIONS = (
    Declaration(
        name="credit.list.proposed",
        model=ListProposed,
        label=Label("拟列入名单", "list proposed"),
        sample={
            "list": "focus",
            "finding": "penalty-1",
            "planned_end": "2025-12-31",
            "basis": _BASIS,
            "document": "深市监告〔2024〕5号",
        },
        references={"finding": FINDINGS},
        relation=Relation(
            Label("拟列入名单依据", "proposes listing for"),
            Label("拟列入名单", "proposed for a list by"),
        ),
    ),
    Declaration(
        name="credit.list.designated",
        model=ListDesignated,
        label=Label("列入名单", "list designated"),
        sample={"proposal": "proposal-1", "basis": _BASIS, "document": "深市监列〔2024〕5号"},
        references={"proposal": one("credit.list.proposed")},
        relation=Relation(Label("决定列入", "designates"), Label("已决定列入", "designated by")),
    ),
    Declaration(
        name="credit.list.removed",
        model=ListRemoved,
        label=Label("移出名单", "list removed"),
        sample={"designation": "designation-1", "reason": "expired"},
        references={"designation": one("credit.list.designated")},
        relation=Relation(Label("移出", "removes"), Label("被移出", "removed by")),
    ),
    Declaration(
        name="credit.measure.applied",
        model=MeasureApplied,
        label=Label("惩戒措施", "measure applied"),
        sample={
            "measure": "enhanced-supervision",
            "finding": "penalty-1",
            "until": None,
            "basis": _BASIS,
            "document": "深市监惩〔2024〕2号",
        },
        references={"finding": SANCTION_GROUNDS},
        relation=Relation(Label("依据", "rests on"), Label("惩戒措施依据", "grounds of measure")),
    ),
    Declaration(
        name="credit.measure.lifted",
        model=MeasureLifted,
        label=Label("措施解除", "measure lifted"),
        sample={"application": "measure-1"},
        references={"application": one("credit.measure.applied")},
        relation=_LIFTS,
    ),
    Declaration(
        name="credit.ban.imposed",
        model=BanImposed,
        label=Label("市场禁入", "ban imposed"),
        sample={
            "sector": "food",
            "finding": "penalty-1",
            "until": "2029-12-31",
            "basis": _BASIS,
            "document": "深市监禁〔2024〕1号",
        },
        references={"finding": SANCTION_GROUNDS},
        relation=Relation(Label("依据", "rests on"), Label("市场禁入依据", "grounds of ban")),
    ),
    Declaration(
        name="credit.ban.lifted",
        model=BanLifted,
        label=Label("禁入解除", "ban lifted"),
        sample={"ban": "ban-1"},
        references={"ban": one("credit.ban.imposed")},
        relation=_LIFTS,
    ),
)
