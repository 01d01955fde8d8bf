"""What agencies write: penalty and violation templates, commitment matters, document
number prefixes, measures and the texts of objections, repairs and withdrawals."""

from __future__ import annotations

# -- what agencies write: templates ----------------------------------------------------

_SECTOR_AGENCY = {
    "food": "samr",
    "product-quality": "samr",
    "advertising": "samr",
    "special-equipment": "samr",
    "work-safety": "emergency",
    "fire-safety": "emergency",
    "environment": "mee",
    "tax": "tax",
    "labour": "mohrss",
}

# sector → [(facts, basis, severities it may carry)]
_PENALTY_TEMPLATES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "food": (
        (
            "经营超过保质期的食品",
            "《中华人民共和国食品安全法》第一百二十四条第一款第（二）项",
            "GS",
        ),
        (
            "未按规定查验供货者的许可证和食品出厂检验合格证明",
            "《中华人民共和国食品安全法》第一百二十六条第一款第（三）项",
            "MG",
        ),
        (
            "安排未取得健康证明的人员从事接触直接入口食品的工作",
            "《中华人民共和国食品安全法》第一百二十六条第一款第（六）项",
            "MG",
        ),
        (
            "在食品中添加食品添加剂以外的化学物质",
            "《中华人民共和国食品安全法》第一百二十三条第一款第（一）项",
            "S",
        ),
    ),
    "product-quality": (
        ("销售不合格产品", "《中华人民共和国产品质量法》第四十九条", "GS"),
        ("在产品中掺杂、掺假，以次充好", "《中华人民共和国产品质量法》第五十条", "S"),
        ("产品标识不符合法定要求", "《中华人民共和国产品质量法》第五十四条", "MG"),
    ),
    "advertising": (
        ("发布虚假广告，欺骗、误导消费者", "《中华人民共和国广告法》第五十五条第一款", "GS"),
        (
            "广告中使用“国家级”“最高级”“最佳”等用语",
            "《中华人民共和国广告法》第五十七条第（一）项",
            "MG",
        ),
        ("未经审查发布医疗器械广告", "《中华人民共和国广告法》第五十八条第一款第（十四）项", "G"),
    ),
    "special-equipment": (
        ("使用未经定期检验的电梯", "《中华人民共和国特种设备安全法》第八十四条第（一）项", "GS"),
        (
            "特种设备作业人员未取得相应资格上岗作业",
            "《中华人民共和国特种设备安全法》第八十六条第（一）项",
            "MG",
        ),
        ("使用已经报废的压力容器", "《中华人民共和国特种设备安全法》第八十四条第（二）项", "S"),
    ),
    "work-safety": (
        (
            "未按规定对从业人员进行安全生产教育和培训",
            "《中华人民共和国安全生产法》第九十七条第（三）项",
            "MG",
        ),
        (
            "未对重大危险源登记建档、定期检测评估",
            "《中华人民共和国安全生产法》第一百零一条第（二）项",
            "G",
        ),
        ("对重大事故隐患未采取措施消除", "《中华人民共和国安全生产法》第一百零二条", "S"),
    ),
    "fire-safety": (
        (
            "占用、堵塞、封闭疏散通道和安全出口",
            "《中华人民共和国消防法》第六十条第一款第（三）项",
            "MG",
        ),
        ("消防设施、器材未保持完好有效", "《中华人民共和国消防法》第六十条第一款第（一）项", "MG"),
        (
            "公众聚集场所未经消防安全检查擅自投入使用、营业",
            "《中华人民共和国消防法》第五十八条第一款第（四）项",
            "GS",
        ),
    ),
    "environment": (
        (
            "超过大气污染物排放标准排放大气污染物",
            "《中华人民共和国大气污染防治法》第九十九条第（二）项",
            "GS",
        ),
        (
            "通过暗管逃避监管的方式排放水污染物",
            "《中华人民共和国水污染防治法》第八十三条第（三）项",
            "S",
        ),
        (
            "未按规定设置危险废物识别标志",
            "《中华人民共和国固体废物污染环境防治法》第一百一十二条第一款第（一）项",
            "MG",
        ),
    ),
    "tax": (
        (
            "未按照规定期限办理纳税申报和报送纳税资料",
            "《中华人民共和国税收征收管理法》第六十二条",
            "MG",
        ),
        ("未按照规定开具发票", "《中华人民共和国发票管理办法》第三十五条第（一）项", "MG"),
        (
            "进行虚假纳税申报，少缴应纳税款",
            "《中华人民共和国税收征收管理法》第六十三条第一款",
            "GS",
        ),
        ("虚开增值税专用发票", "《中华人民共和国发票管理办法》第三十七条", "S"),
    ),
    "labour": (
        ("安排劳动者延长工作时间超过法定限度", "《劳动保障监察条例》第二十五条", "MG"),
        ("克扣、无故拖欠劳动者工资报酬", "《劳动保障监察条例》第二十六条", "G"),
        ("未按规定开设农民工工资专用账户", "《保障农民工工资支付条例》第五十五条第（一）项", "GS"),
    ),
}

# (behaviour code, facts, basis, sector, agency, severities) for credit.violation.recorded
_VIOLATIONS: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "abnormal-operation",
        "未按规定期限公示年度报告，列入经营异常名录",
        "《企业信息公示暂行条例》第十七条",
        "market-registration",
        "samr",
        "MG",
    ),
    (
        "false-registration",
        "提交虚假材料取得市场主体登记",
        "《中华人民共和国市场主体登记管理条例》第四十四条",
        "market-registration",
        "samr",
        "GS",
    ),
    (
        "wage-arrears",
        "拖欠农民工工资，经责令限期支付逾期未支付",
        "《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》第五条",
        "labour",
        "mohrss",
        "GS",
    ),
    (
        "major-tax-violation",
        "偷税数额在100万元以上且占各税种应纳税总额10%以上",
        "《重大税收违法失信主体信息公布管理办法》第六条第（一）项",
        "tax",
        "tax",
        "S",
    ),
    (
        "falsified-monitoring-data",
        "篡改、伪造污染物自动监测数据",
        "《中华人民共和国环境保护法》第六十三条第（三）项",
        "environment",
        "mee",
        "GS",
    ),
    (
        "work-safety-dishonesty",
        "对发生的一般生产安全事故负有责任",
        "《安全生产严重失信主体名单管理办法》第五条第（一）项",
        "work-safety",
        "emergency",
        "GS",
    ),
    (
        "food-safety-dishonesty",
        "因食品安全违法行为受到较重行政处罚",
        "《市场监督管理严重违法失信名单管理办法》第九条",
        "food",
        "samr",
        "S",
    ),
)
_COURT_VIOLATION = (
    "dishonest-judgment-debtor",
    "有履行能力而拒不履行生效法律文书确定的义务",
    "《最高人民法院关于公布失信被执行人名单信息的若干规定》第一条第（一）项",
    "judicial",
)

# sector → (agency, approval matters under 告知承诺制 / 容缺受理, industry self-regulation)
_MATTERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "food": (
        "samr",
        ("食品经营许可（告知承诺制）", "食品生产许可（告知承诺制）"),
        "餐饮食品行业诚信经营自律承诺",
    ),
    "product-quality": (
        "samr",
        ("工业产品生产许可证（告知承诺制）", "营业执照变更登记（容缺受理）"),
        "产品质量诚信经营自律承诺",
    ),
    "advertising": (
        "samr",
        ("营业执照变更登记（容缺受理）", "医疗器械广告审查（告知承诺制）"),
        "广告行业自律公约信用承诺",
    ),
    "special-equipment": (
        "samr",
        ("特种设备安装改造修理许可（告知承诺制）", "特种设备使用登记（容缺受理）"),
        "特种设备行业诚信自律承诺",
    ),
    "work-safety": (
        "emergency",
        ("危险化学品经营许可（告知承诺制）", "安全生产许可证延续（告知承诺制）"),
        "建筑市场诚信经营自律承诺",
    ),
    "fire-safety": (
        "emergency",
        ("公众聚集场所投入使用、营业前消防安全检查（告知承诺制）",),
        "消防安全责任自律承诺",
    ),
    "environment": (
        "mee",
        ("排污许可证核发（告知承诺制）", "建设项目环境影响评价文件审批（告知承诺制）"),
        "环保产业诚信自律承诺",
    ),
    "tax": (
        "tax",
        (
            "增值税一般纳税人登记（告知承诺制）",
            "出口退（免）税备案（告知承诺制）",
            "涉税事项容缺办理",
        ),
        "依法诚信纳税自律承诺",
    ),
    "labour": (
        "mohrss",
        ("劳务派遣经营许可（告知承诺制）", "特殊工时工作制审批（告知承诺制）"),
        "人力资源服务行业诚信自律承诺",
    ),
}
_VOLUNTARY_MATTERS = (
    "主动公示信用承诺：依法诚信经营，自觉接受政府、行业和社会监督",
    "市场主体年度信用承诺书",
    "“信易贷”融资授信信用承诺",
    "参与政府采购活动信用承诺",
)
_ORGAN_MATTERS = ("政务诚信承诺：依法履行合同约定义务", "公共服务事项信用承诺")

_DOC_PREFIX = {
    "samr": "市监",
    "tax": "税",
    "mee": "环",
    "emergency": "应急",
    "mohrss": "人社",
    "court": "法",
    "ndrc": "发改",
    "credit-platform": "信用",
}
"""Agency → the part of its document numbers after the city (深市监责改〔2024〕3号)."""

_FINDING_WEIGHT_TYPES = frozenset(
    {"credit.violation.recorded", "credit.penalty.decided", "credit.commitment.breached"}
)

_GUIDELINE_35 = (
    "《国务院办公厅关于加快推进社会信用体系建设构建以信用为基础的新型监管机制的指导意见》"
    "（国办发〔2019〕35号）"
)
_ORDER_58_TITLE = "《失信行为纠正后的信用信息修复管理办法（试行）》"
_REPAIR_APPROVED = (
    "经核查，该主体已纠正失信行为、履行相关义务并作出信用修复承诺，符合信用修复条件，"
    "同意修复，停止公示"
)

_MEASURES_SERIOUS = (
    "bidding-restriction",
    "fiscal-funds-restriction",
    "tax-incentive-restriction",
    "flight-restriction",
    "high-speed-rail-restriction",
    "public-criticism",
    "license-restriction",
)
_MEASURES_FOCUS = ("enhanced-supervision", "public-criticism")

_OBJECTION_GROUNDS = (
    "处罚决定已经行政复议变更，平台公示的罚款金额与变更后的决定不一致",
    "公示信息中的统一社会信用代码与本单位不符，系他人违法行为误归集",
    "违法行为已于处罚前自行纠正，认定的违法情节与事实不符",
    "公示的严重程度有误，原处罚决定适用简易程序",
    "公示的决定书文号、处罚依据有误",
)
_OBJECTION_REJECT = (
    "经核查，公示信息与原始决定书一致，异议理由不成立",
    "经向认定单位核实，相关失信信息认定事实清楚、证据确凿",
    "异议申请人未提供足以证明信息有误的材料",
)
_REPAIR_REJECT = (
    "未提供罚款缴纳凭证，尚未履行行政处罚决定",
    "信用修复承诺书内容不完整，未载明履约承诺事项",
    "经核查，整改情况与申请材料不符",
)
_WITHDRAW_REASONS = (
    "经行政复议，原行政处罚决定被撤销",
    "人民法院判决撤销原行政处罚决定",
    "原处罚决定认定事实不清，本机关依法自行撤销",
)
