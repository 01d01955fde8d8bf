"""What a person reads for a code: every code the ledger shows, in Chinese and English.

``label(kind, code, lang="zh")`` is the one place the projections, the CLI's
text views and the API's pages turn a code into words. Chinese is the default;
``lang="en"`` gives English. The kinds:

* ``type`` — event types (from their declarations, :mod:`events.catalogue`);
* ``relation`` — how a history record names another (the declarations' relations,
  keyed by their English text, the stable ``relation`` of the history's links);
* ``reason`` — reason codes (:data:`events.reasons.REASON_TEXTS`, their titles);
* the codes the event models fix (:mod:`events.fields`, :mod:`events.models`):
  ``severity``, ``penalty-kind``, ``procedure``, ``list``, ``commitment-type``,
  ``repair-method``, ``person-role``, ``removal-reason``, ``outcome``,
  ``interview-kind``, ``breach-kind``;
* codes agencies send that the ledger knows: ``behaviour``, ``sector``;
* ``role`` — the API's roles; ``list`` also names the public registers
  (``bans``, ``trustworthy``).

Agencies, measures and incentive measures have their names in the rule
services' registries (``commands/agencies.json``, the measures and incentives
lists): ``RuleServices.label`` answers those kinds and hands every other kind to
this module. An unknown kind or code raises :class:`UnknownLabel` (tests find
the gap); :func:`shown` is for open vocabularies, where an agency may send a
code the ledger has no words for: it falls back to the code itself.
"""

from __future__ import annotations

from collections.abc import Mapping

import events.declarations  # noqa: F401  (declares the packaged types)
from events.catalogue import CATALOGUE, Label
from events.reasons import REASON_TEXTS

__all__ = ["KINDS", "UnknownLabel", "codes", "label", "shown"]


class UnknownLabel(KeyError):
    """No label for this kind, or for this code of the kind."""


def _table(**labels: tuple[str, str]) -> dict[str, Label]:
    """Python names → codes: ``legal_representative`` is ``legal-representative``."""
    return {name.replace("_", "-"): Label(zh, en) for name, (zh, en) in labels.items()}


_STATIC: dict[str, dict[str, Label]] = {
    "severity": _table(
        minor=("轻微", "minor"), general=("一般", "general"), serious=("严重", "serious")
    ),
    "penalty-kind": _table(
        warning=("警告", "warning"),
        criticism=("通报批评", "public criticism"),
        fine=("罚款", "fine"),
        confiscation=("没收违法所得", "confiscation of illegal gains"),
        suspension=("暂扣许可证件", "licence suspended"),
        revocation=("吊销许可证件", "licence revoked"),
        restriction=("限制开展生产经营活动", "business activities restricted"),
        detention=("行政拘留", "administrative detention"),
    ),
    "procedure": _table(simplified=("简易程序", "simplified"), ordinary=("普通程序", "ordinary")),
    "list": _table(
        serious_dishonesty=("严重失信主体名单", "serious dishonesty list"),
        focus=("重点关注名单", "focus list"),
        bans=("市场和行业禁入", "market bans"),
        trustworthy=("守信激励对象名单", "trustworthy subjects"),
    ),
    "commitment-type": _table(
        approval_substitute=("审批替代型", "in place of approval"),
        voluntary=("自主自愿型", "voluntary"),
        industry=("行业自律型", "industry self-discipline"),
        repair=("信用修复型", "for credit repair"),
    ),
    "repair-method": _table(
        commitment=("信用承诺", "commitment"),
        rectification=("整改", "rectification"),
        verification=("核查", "verification"),
        training=("信用修复培训", "training"),
        report=("信用报告", "credit report"),
        charity=("公益慈善", "charity"),
    ),
    "person-role": _table(
        legal_representative=("法定代表人", "legal representative"),
        principal=("主要负责人", "principal"),
        actual_controller=("实际控制人", "actual controller"),
    ),
    "removal-reason": _table(
        expired=("期满移出", "period expired"),
        repaired=("信用修复后移出", "repaired"),
        revoked=("撤销列入", "listing revoked"),
    ),
    "outcome": _table(
        upheld=("异议成立", "upheld"),
        rejected=("异议不成立", "rejected"),
        pending=("待处理", "pending"),
    ),
    "interview-kind": _table(reminder=("提示约谈", "reminder"), warning=("警示约谈", "warning")),
    "breach-kind": _table(
        **{"false": ("虚假承诺", "untrue"), "unfulfilled": ("未履行承诺", "not kept")}
    ),
    "behaviour": _table(
        abnormal_operation=("经营异常", "abnormal operation"),
        false_registration=("虚假登记", "false registration"),
        wage_arrears=("拖欠农民工工资", "wage arrears"),
        major_tax_violation=("重大税收违法", "major tax violation"),
        falsified_monitoring_data=("篡改、伪造监测数据", "falsified monitoring data"),
        work_safety_dishonesty=("安全生产失信", "work-safety dishonesty"),
        food_safety_dishonesty=("食品安全失信", "food-safety dishonesty"),
        dishonest_judgment_debtor=("失信被执行人", "dishonest judgment debtor"),
    ),
    "sector": _table(
        food=("食品", "food"),
        product_quality=("产品质量", "product quality"),
        fire_safety=("消防安全", "fire safety"),
        tax=("税务", "tax"),
        labour=("劳动保障", "labour"),
        work_safety=("安全生产", "work safety"),
        special_equipment=("特种设备", "special equipment"),
        environment=("生态环境", "environment"),
        advertising=("广告", "advertising"),
        market_registration=("市场主体登记", "market registration"),
        court=("司法", "courts"),
    ),
    "role": _table(
        agency=("行政机关", "agency"),
        auditor=("审计人员", "auditor"),
        objection_handler=("异议处理人员", "objection handler"),
        public=("社会公众", "public"),
    ),
}


def _relations() -> dict[str, Label]:
    """The declarations' relations by English text; one text, one Chinese label."""
    out: dict[str, Label] = {}
    for declaration in CATALOGUE.values():
        if declaration.relation is None:
            continue
        for one in (declaration.relation.forward, declaration.relation.backward):
            if out.setdefault(one.en, one) != one:
                raise ValueError(
                    f"relation {one.en!r} has two labels: {out[one.en].zh} and {one.zh} "
                    f"({declaration.name})"
                )
    return out


def _kind(kind: str) -> Mapping[str, Label]:
    if kind == "type":
        return {name: d.label for name, d in CATALOGUE.items()}
    if kind == "relation":
        return _relations()
    if kind == "reason":
        return {str(code): text.title for code, text in REASON_TEXTS.items()}
    table = _STATIC.get(kind)
    if table is None:
        raise UnknownLabel(f"no labels of kind {kind!r}; kinds are {', '.join(KINDS)}")
    return table


KINDS: tuple[str, ...] = ("type", "relation", "reason", *_STATIC)
"""Every kind :func:`label` answers."""


def label(kind: str, code: str, lang: str = "zh") -> str:
    """The words for ``code`` of ``kind`` in ``lang`` (``zh`` or ``en``).

    Raises :class:`UnknownLabel` for an unknown kind or code (module docstring).
    """
    found = _kind(kind).get(code)
    if found is None:
        raise UnknownLabel(f"no label for {kind} {code!r}")
    return found.text(lang)


def shown(kind: str, code: str, lang: str = "zh") -> str:
    """:func:`label`, or ``code`` itself when the ledger has no words for it (an
    open vocabulary such as behaviours and sectors)."""
    try:
        return label(kind, code, lang)
    except UnknownLabel:
        return code


def codes(kind: str) -> frozenset[str]:
    """Every code of ``kind`` that has a label."""
    return frozenset(_kind(kind))
