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
* ``field`` — the fields of a record's data a page lists (``amount``, ``kinds`` …;
  keyed like every code, ``planned-end`` for the field ``planned_end``);
* ``system-record`` — the prefixes of the ids of records the ledger makes itself
  (``spot-check-2025/…``, ``expiry-…``, ``breach-…``, ``repair-revoked-…``): pages
  show the label and the rest of the id instead of the id;
* ``role`` — the API's roles; ``list`` also names the public registers
  (``bans``, ``trustworthy``);
* ``record-kind`` — the kinds of public item (disclosure items, report sections:
  ``penalty``, ``violation``, ``list`` …); ``scheme`` — evaluation schemes;
  ``commitment-status`` — how a commitment stands; ``registration-authority`` —
  the first character of a USCC (登记管理部门);
* ``cause`` — why a record's publication starts or ends, and ``phrase`` — the
  reason lines of the disclosure: templates with ``{placeholders}`` that
  :mod:`projections.wording` fills (the English ones are the lines API clients
  have always read in ``reason``).

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
    "record-kind": _table(
        penalty=("行政处罚", "penalty"),
        violation=("失信行为", "violation record"),
        list=("名单", "list"),
        ban=("市场禁入", "ban"),
        measure=("惩戒措施", "measure"),
        person=("责任人", "person"),
        registration=("自愿注册", "registration"),
        license=("行政许可", "licence"),
        incentive=("守信激励", "incentive"),
        withdrawal_notice=("撤回公示说明", "withdrawal notice"),
        evaluation=("综合评价", "evaluation"),
        commitment=("信用承诺", "commitment"),
    ),
    "scheme": _table(
        public_credit_comprehensive_evaluation=(
            "公共信用综合评价",
            "public credit comprehensive evaluation",
        ),
        national_comprehensive=("全国公共信用综合评价", "national public credit evaluation"),
        market_regulation_credit_risk_classification=(
            "市场监管信用风险分类",
            "market regulation credit risk classification",
        ),
        market_regulation=("市场监管信用风险分类", "market regulation credit risk classification"),
        tax=("纳税信用等级评价", "tax credit rating"),
        customs=("海关企业信用等级", "customs enterprise credit rating"),
    ),
    "commitment-status": _table(
        open=("履行中", "in progress"),
        fulfilled=("已履约", "fulfilled"),
        breached=("未履约", "breached"),
        withdrawn=("已撤回", "withdrawn"),
    ),
    "registration-authority": {
        "1": Label("机构编制", "institutional establishment"),
        "5": Label("民政", "civil affairs"),
        "9": Label("市场监督管理（工商）", "market regulation"),
        "A": Label("其他", "other"),
        "N": Label("农业农村（其他）", "agriculture and rural affairs (other)"),
        "Y": Label("其他", "other"),
    },
    "cause": _table(
        decided=("作出决定", "decided"),
        designated=("列入名单", "designated"),
        imposed=("实施禁入", "imposed"),
        applied=("实施措施", "applied"),
        linked=("关联责任人", "linked"),
        registered=("自愿注册", "registered"),
        granted=("授予", "granted"),
        breached=("违背承诺", "breached"),
        withdrawal_notice=("撤回公示说明", "withdrawal notice"),
        restored=("恢复公示", "restored"),
        repair_revoked=("信用修复被撤销", "repair revoked"),
        maximum_period=("公示期满", "maximum period reached"),
        period_over=("期限届满", "period over"),
        notice_period_over=("说明公示期满", "notice period over"),
        ended=("已结束", "ended"),
        decision_withdrawn=("处罚决定已撤回", "decision withdrawn"),
        ground_withdrawn=("所依据的处罚决定已撤回", "the decision it rests on was withdrawn"),
        repair_approved=("信用修复已通过", "repair approved"),
        ground_repair_approved=("{record} 的信用修复已通过", "repair of {record} approved"),
        ground_removed=("所依据的名单列入已移出", "the listing it rests on was removed"),
        removed_because=("移出名单（{reason}）", "removed from the list ({reason})"),
        removed=("已移出名单", "removed"),
        ban_lifted=("禁入已解除", "ban lifted"),
        measure_lifted=("惩戒措施已解除", "measure lifted"),
        licence_revoked=("行政许可已撤销", "licence revoked"),
        incentive_ended=("激励措施已终止", "incentive ended"),
        record_revoked_by_why=("记录已被 {by} 撤销：{why}", "record revoked by {by}: {why}"),
        record_revoked_by=("记录已被 {by} 撤销", "record revoked by {by}"),
        record_revoked=("记录已撤销", "record revoked"),
        ground_revoked_by=(
            "所依据的记录（{record}）已被 {by} 撤销",
            "the record it rests on ({record}) was revoked by {by}",
        ),
        ground_revoked=(
            "所依据的记录（{record}）已撤销",
            "the record it rests on ({record}) was revoked",
        ),
    ),
    "phrase": _table(
        never=(
            "不予公示：{cause}（撤销自始生效）",
            "not published: {cause} (a revocation applies from the start)",
        ),
        withheld=("不予公示：{what}", "not published: {what}"),
        published=("公示中{again}：{what}{ends}", "published{again}: {what}{ends}"),
        again=("（{day}起再次公示，{cause}）", " again since {day} ({cause})"),
        ends=("，{day}起不再公示", ", ends by {day}"),
        ended=("{day}起不再公示：{cause}", "ended {day}: {cause}"),
        not_yet=("尚未公示（{day}起公示）", "not yet published (from {day})"),
        finding=(
            "{severity}{noun}{in_sector}，{rule}，公示{min}至{max}",
            "{severity} {noun}{in_sector}, {rule}, {min}–{max}",
        ),
        finding_withheld=(
            "{severity}{noun}{in_sector}（{rule}）",
            "{severity} {noun}{in_sector} ({rule})",
        ),
        in_sector=("（{sector}领域）", " in {sector}"),
        undetermined=(
            "无法确定公示期限：{problem}",
            "cannot tell the disclosure period: {problem}",
        ),
        order=("国家发展改革委令第{number}号", "Order {number}"),
        months=("{n}个月", "{n} months"),
        month=("{n}个月", "{n} month"),
        years=("{n}年", "{n} years"),
        year=("{n}年", "{n} year"),
        notice=(
            "撤回公示说明：{agency}的一项行政处罚决定已{what}",
            "notice: a penalty decision of {agency} was {what} (撤回公示说明)",
        ),
        notice_revoked=("撤销", "revoked"),
        notice_withdrawn=("撤回", "withdrawn"),
        list=("列入{label}", "{name} list ({label})"),
        list_unnamed=("列入{name}名单", "{name} list"),
        planned_end=("，计划移出日期 {day}", ", planned end {day}"),
        ban=("市场和行业禁入（{sector}）{span}", "market ban (市场和行业禁入) from {sector}{span}"),
        permanent=("，终身禁入", ", permanent"),
        measure=("惩戒措施：{measure}", "measure {measure} (通报批评 public criticism)"),
        person=("责任人，{role}：{name}", "responsible person, {role}: {name}"),
        registration=(
            "自愿注册信息（{category}）：{description}",
            "positive information ({category}): {description}",
        ),
        license=(
            "行政许可 {license_type}：{matter}",
            "licence (行政许可) {license_type}: {matter}",
        ),
        incentive=("守信激励：{measure}", "incentive (守信激励) {measure}"),
        score_finding=(
            "{severity}{noun}{sector}，{agency}{document}",
            "{severity} {noun}{sector} by {agency}{document}",
        ),
        score_breach=("违背信用承诺（{kind}）", "commitment breached ({kind})"),
        score_list=("列入{name}", "on the {name} list"),
        score_registration=("自愿注册信息（{category}）", "registered {category}"),
        score_no_points=("{what}；不计分：{why}", "{what}; no points: {why}"),
        score_never=("自始不生效，{cause}", "never in force: {cause}"),
        score_ended=("{day}起不再计分，{cause}", "ended {day}: {cause}{by}"),
        score_not_yet=("尚未生效", "not yet in force"),
        score_no_key=(
            "评分方案未规定此类记录的分值",
            "grade scheme {scheme} has none for {key}",
        ),
        score_until=("；计分至{day}（{cause}）", "; counts until {day} ({cause})"),
        score_capped=(
            "；已封顶：此类记录合计最多计{cap}分",
            "; capped: {key} counts at most {cap} points in all",
        ),
        score_objection=("；异议处理中", "; under objection {objection}"),
    ),
    "field": _table(
        amount=("罚款金额", "amount"),
        facts=("违法事实", "facts"),
        kinds=("处罚种类", "penalty kinds"),
        procedure=("程序", "procedure"),
        severity=("严重程度", "severity"),
        sector=("领域", "sector"),
        behaviour=("失信行为", "behaviour"),
        measure=("惩戒措施", "measure"),
        until=("截止日期", "until"),
        finding=("所依据的记录", "finding"),
        list=("名单", "list"),
        planned_end=("计划移出日期", "planned end"),
        role=("职务", "role"),
        name=("姓名", "name"),
        reason=("原因", "reason"),
        category=("类别", "category"),
        description=("说明", "description"),
        confiscated=("没收金额", "confiscated"),
        legal_basis=("法律依据", "legal basis"),
        license_type=("许可类型", "licence type"),
        matter=("事项", "matter"),
        grade=("等级", "grade"),
        scheme=("评价体系", "scheme"),
        valid_until=("有效期至", "valid until"),
        due=("期限", "due"),
        deadline=("整改期限", "deadline"),
        commitment_type=("承诺类型", "commitment type"),
    ),
    "system-record": _table(
        spot_check=("双随机抽查", "spot check"),
        expiry=("到期移出", "expiry"),
        breach=("逾期未履约", "overdue commitment"),
        repair_revoked=("撤销信用修复", "repair revoked"),
    ),
    "role": _table(
        agency=("行政机关", "agency"),
        auditor=("审计人员", "auditor"),
        objection_handler=("异议处理人员", "objection handler"),
        public=("社会公众", "public"),
        subject=("信用主体", "subject"),
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


_STATIC_TEXTS: dict[tuple[str, str, str], str] = {
    (kind, code, lang): one.text(lang)
    for kind, table in _STATIC.items()
    for code, one in table.items()
    for lang in ("zh", "en")
}
"""Every fixed label's text by (kind, code, lang): :func:`label`'s one-lookup path for
the kinds that never change (the projections ask it for every reason line)."""


def label(kind: str, code: str, lang: str = "zh") -> str:
    """The words for ``code`` of ``kind`` in ``lang`` (``zh`` or ``en``).

    Raises :class:`UnknownLabel` for an unknown kind or code (module docstring).
    """
    text = _STATIC_TEXTS.get((kind, code, lang))
    if text is not None:
        return text
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
