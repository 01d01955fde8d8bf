"""Reason codes: the one enumeration of why the ledger refuses something.

The CLI (`submit --json`), the HTTP API (RFC 9457 problem details, field `code`)
and the Kafka dead-letter headers all carry these strings. A code never changes
meaning once released; new reasons get new codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from events.catalogue import Label


class Reason(StrEnum):
    """Stable, machine-readable reason codes (kebab-case strings)."""

    # -- the envelope and its bytes ------------------------------------------------
    NOT_JSON = "not-json"
    """The input is not parseable JSON (or a JSON line is not)."""
    NOT_AN_OBJECT = "not-an-object"
    """A submitted item is JSON but not a JSON object."""
    SPECVERSION = "unsupported-specversion"
    """`specversion` is missing or not "1.0"."""
    MISSING_ATTRIBUTE = "missing-attribute"
    """A required CloudEvents attribute (id, source, type, subject, time, data) is missing."""
    INVALID_ATTRIBUTE = "invalid-attribute"
    """A CloudEvents attribute has the wrong JSON type or an empty value."""
    CONTENT_TYPE = "unsupported-content-type"
    """`datacontenttype` is present and not application/json."""
    UNKNOWN_TYPE = "unknown-type"
    """`type` is not in the vocabulary (DOMAIN.md)."""
    INVALID_TIME = "invalid-time"
    """`time` is not an RFC 3339 date-time with an offset."""
    DATE_OUT_OF_RANGE = "date-out-of-range"
    """A `time`, a date field of `data` (or of its `changes`) or a query instant (`as_of`,
    `known_at`) lies outside the dates the ledger accepts (1949-10-01 … 2199-12-31 by default,
    DOMAIN.md); an indefinite period is null, never a far-future date."""
    TIME_IN_FUTURE = "time-in-future"
    """`time` is later than the moment the ledger records the event (beyond clock skew)."""
    DATA_TOO_LARGE = "data-too-large"
    """`data` serialises to more than the size limit (64 KiB)."""
    FLOAT_NOT_ALLOWED = "float-not-allowed"
    """A JSON number with a fraction or exponent appears in `data`; money is a decimal string."""
    CONTROL_CHARACTER = "control-character"
    """A string or key in `data` holds a control character (C0 other than tab, line feed and
    carriage return; DEL; C1) or a Unicode noncharacter (U+FFFE, U+FFFF, …)."""

    # -- the subject code ----------------------------------------------------------
    CODE_LENGTH = "subject-code-length"
    """The unified social credit code is not 18 characters long."""
    CODE_LOWERCASE = "subject-code-lowercase"
    """The code contains lowercase letters (codes are upper case)."""
    CODE_CHARACTER = "subject-code-character"
    """The code contains a character outside 0-9A-HJ-NPQRTUWXY (e.g. I, O, Z, S, V)."""
    CODE_ORG_CHECK = "subject-code-organisation-check"
    """The organisation-code check character (position 17) is wrong (GB 11714)."""
    CODE_CHECK = "subject-code-check"
    """The final check character (position 18) is wrong (GB 32100)."""

    # -- the data of a type --------------------------------------------------------
    MISSING_FIELD = "missing-field"
    """A field the event type requires in `data` is missing."""
    INVALID_FIELD = "invalid-field"
    """A field in `data` has the wrong type, format or value."""

    # -- idempotency ---------------------------------------------------------------
    ID_REUSED = "id-reused"
    """The (source, id) was already recorded with different content."""

    # -- structural and workflow rules (commands/) ---------------------------------
    UNKNOWN_REFERENCE = "unknown-reference"
    """A reference (`ref` field) names no earlier event in this subject's stream."""
    WRONG_REFERENCE_TYPE = "wrong-reference-type"
    """A reference names an event of a type the field may not point at."""
    REFERENCE_DATED_LATER = "reference-dated-later"
    """A reference names an event whose valid time (`time`) is later than this event's own
    (e.g. an objection dated before the record it objects to); the same instant is allowed."""
    TARGET_REVOKED = "target-revoked"
    """The referenced record was revoked; it can no longer be repaired, objected to or corrected."""
    WRONG_AGENCY = "wrong-agency"
    """Only the agency that made the finding may do this (谁认定、谁约谈)."""
    NOT_AUTHORISED = "not-authorised"
    """The `source` may not record this act (DOMAIN.md "Who may record what"); the message
    names the responsible agency (谁认定、谁负责)."""
    SOURCE_NOT_ALLOWED = "source-not-allowed"
    """The authenticated principal may not submit events for this `source`."""
    OUT_OF_ORDER = "out-of-order"
    """The lifecycle step does not follow from the state (e.g. resolving an objection twice)."""
    REPAIR_TOO_EARLY = "repair-too-early"
    """Repair requested before the minimum disclosure period has passed."""
    REPAIR_OBLIGATIONS = "repair-obligations-unmet"
    """Repair requested before the obligations (rectification, repair commitment) are met."""
    NO_RULE_SET = "no-rule-set"
    """No disclosure rule set is in force on the record's valid date."""
    CALENDAR_UNKNOWN = "calendar-unknown"
    """A working-day computation needs a year whose official calendar is not loaded."""
    REPAIR_NOT_APPLICABLE = "repair-not-applicable"
    """Repair requested for a record that is not disclosed (e.g. a minor penalty under Order 36)."""
    DESIGNATION_TOO_EARLY = "designation-too-early"
    """A list designation before the proposal's notice and objection window has closed."""
    PERSON_ERASED = "person-erased"
    """No longer issued (kept so the code never changes meaning): a link of an erased
    person's number now starts a fresh key (DOMAIN.md, Clarifications, Personal data)."""

    # -- the criteria of the serious acts (commands/workflows/criteria.py) -----------
    NOT_MINOR = "not-minor"
    """A penalty claims severity `minor` outside the rule set's minor definition (procedure,
    penalty kinds, fine limit for a person or an organisation)."""
    LISTING_GROUNDS = "listing-grounds"
    """A list proposal rests on a finding the list may not rest on (serious-dishonesty needs a
    serious finding or a court's 失信被执行人 finding; focus a general or serious one)."""
    PLANNED_END_TOO_LATE = "planned-end-too-late"
    """A list proposal's `planned_end` is later than the rule set's bound for the list and region."""
    OPEN_ENDED_NOT_ALLOWED = "open-ended-not-allowed"
    """A list proposal without `planned_end` whose basis is not one the rule set allows it for."""
    PERMANENT_BAN_NOT_ALLOWED = "permanent-ban-not-allowed"
    """A permanent ban (`until: null`) whose basis is not one the rule set names as allowing it."""
    REPAIR_METHODS = "repair-methods"
    """A repair request misses a method the rule set requires for that kind of record, or names
    one it does not allow."""
    UNKNOWN_MEASURE = "unknown-measure"
    """`data.measure` is not a code of the measures list (惩戒措施清单)."""
    DUPLICATE_MEASURE = "duplicate-measure"
    """The same measure is already applied, and not lifted, on the same finding."""

    # -- the store -----------------------------------------------------------------
    CONFLICT = "write-conflict"
    """Concurrent writers kept conflicting beyond the retry bound; submit again."""
    BEHIND_PUBLISHED = "behind-published-checkpoint"
    """The store holds fewer records than a checkpoint published in the checkpoint log (records
    were removed, or an older backup was restored): no checkpoint is signed until it holds them."""
    FORKS_PUBLISHED = "forks-published-checkpoint"
    """The store's tree is not consistent with a checkpoint published in the checkpoint log
    (history was rewritten, or this is another ledger): no checkpoint is signed."""

    # -- the HTTP API (api/) -------------------------------------------------------
    TYPE_NOT_ALLOWED = "type-not-allowed"
    """The authenticated principal's role may not submit events of this `type`."""
    UNAUTHENTICATED = "unauthenticated"
    """A bearer token is required and none, or an unknown or revoked one, was given."""
    ROLE_NOT_ALLOWED = "role-not-allowed"
    """The authenticated principal's role may not use this endpoint."""
    UNKNOWN_SUBJECT = "unknown-subject"
    """A valid subject code with no records in the ledger (at the asked moment)."""
    UNKNOWN_LIST = "unknown-list"
    """The named public list does not exist."""
    NOT_OWN_SUBJECT = "not-own-subject"
    """A subject's token asked about, or filed for, another subject: a subject sees and files
    only about its own code."""
    INVALID_CURSOR = "invalid-cursor"
    """`cursor` is not one this endpoint handed out for the same query (paging: pass `next` back
    unchanged, with the same other parameters)."""
    LIMIT_OUT_OF_RANGE = "limit-out-of-range"
    """`limit` is not a whole number between 1 and the endpoint's maximum page size."""
    INVALID_INSTANT = "invalid-instant"
    """`as_of` or `known_at` is neither an RFC 3339 date-time with offset nor a date."""
    INVALID_REQUEST = "invalid-request"
    """The request's parameters or body do not match the endpoint's contract."""
    NOT_FOUND = "not-found"
    """No such resource or endpoint."""
    METHOD_NOT_ALLOWED = "method-not-allowed"
    """The endpoint exists but not with this HTTP method."""
    PAYLOAD_TOO_LARGE = "payload-too-large"
    """The request body, or the number of events in a batch, exceeds the limit."""
    UNSUPPORTED_MEDIA_TYPE = "unsupported-media-type"
    """The request body's Content-Type is not JSON (application/json or CloudEvents JSON)."""
    UNAVAILABLE = "unavailable"
    """A dependency (database, projections) is not ready; retry later."""
    INTERNAL = "internal-error"
    """An unexpected failure inside the ledger; nothing was written unless the response says so."""


@dataclass(frozen=True, slots=True)
class ReasonText:
    """What a person reads for a reason code: a short ``title`` (Chinese and
    English) and ``detail_zh``, what the reason means in Chinese (the English
    meaning is the member's docstring; a problem's English detail is the
    rejection's own message)."""

    title: Label
    detail_zh: str


REASON_TEXTS: Mapping[Reason, ReasonText] = MappingProxyType(
    {
        Reason.NOT_JSON: ReasonText(
            Label("不是有效的 JSON", "Not JSON"), "提交的内容不是可解析的 JSON。"
        ),
        Reason.NOT_AN_OBJECT: ReasonText(
            Label("不是 JSON 对象", "Not a JSON object"), "提交的条目是 JSON，但不是 JSON 对象。"
        ),
        Reason.SPECVERSION: ReasonText(
            Label("不支持的 specversion", "Unsupported specversion"),
            "specversion 缺失或不是 “1.0”。",
        ),
        Reason.MISSING_ATTRIBUTE: ReasonText(
            Label("缺少必需属性", "Missing attribute"),
            "缺少必需的 CloudEvents 属性（id、source、type、subject、time、data）。",
        ),
        Reason.INVALID_ATTRIBUTE: ReasonText(
            Label("属性无效", "Invalid attribute"), "CloudEvents 属性的类型错误或值为空。"
        ),
        Reason.CONTENT_TYPE: ReasonText(
            Label("不支持的内容类型", "Unsupported content type"),
            "datacontenttype 不是 application/json。",
        ),
        Reason.UNKNOWN_TYPE: ReasonText(
            Label("未知的事件类型", "Unknown event type"), "type 不在事件词汇表中。"
        ),
        Reason.INVALID_TIME: ReasonText(
            Label("时间格式无效", "Invalid time"), "time 不是带时区偏移的 RFC 3339 日期时间。"
        ),
        Reason.DATE_OUT_OF_RANGE: ReasonText(
            Label("日期超出范围", "Date out of range"),
            "日期或时间超出账本接受的范围；无固定期限用 null 表示。",
        ),
        Reason.TIME_IN_FUTURE: ReasonText(
            Label("时间晚于记录时刻", "Time in the future"),
            "事件时间晚于账本记录它的时刻（超出允许的时钟偏差）。",
        ),
        Reason.DATA_TOO_LARGE: ReasonText(
            Label("数据过大", "Data too large"), "data 序列化后超过大小上限（64 KiB）。"
        ),
        Reason.FLOAT_NOT_ALLOWED: ReasonText(
            Label("不允许浮点数", "Float not allowed"),
            "data 中出现带小数或指数的数字；金额应写成十进制字符串。",
        ),
        Reason.CONTROL_CHARACTER: ReasonText(
            Label("含有控制字符", "Control character"),
            "data 的字符串或键中含有控制字符或非字符码位。",
        ),
        Reason.CODE_LENGTH: ReasonText(
            Label("信用代码长度错误", "Subject code length"), "统一社会信用代码应为 18 位。"
        ),
        Reason.CODE_LOWERCASE: ReasonText(
            Label("信用代码含小写字母", "Subject code lower case"), "统一社会信用代码应为大写。"
        ),
        Reason.CODE_CHARACTER: ReasonText(
            Label("信用代码含非法字符", "Subject code character"),
            "统一社会信用代码含有不允许的字符（不使用 I、O、Z、S、V）。",
        ),
        Reason.CODE_ORG_CHECK: ReasonText(
            Label("组织机构代码校验位错误", "Organisation-code check"),
            "第 17 位（组织机构代码校验位，GB 11714）错误。",
        ),
        Reason.CODE_CHECK: ReasonText(
            Label("信用代码校验位错误", "Subject code check"), "第 18 位校验位（GB 32100）错误。"
        ),
        Reason.MISSING_FIELD: ReasonText(
            Label("缺少必填字段", "Missing field"), "data 缺少该事件类型要求的字段。"
        ),
        Reason.INVALID_FIELD: ReasonText(
            Label("字段无效", "Invalid field"), "data 中字段的类型、格式或取值错误。"
        ),
        Reason.ID_REUSED: ReasonText(
            Label("事件编号重复", "Id reused"), "同一 (source, id) 已以不同内容记录。"
        ),
        Reason.UNKNOWN_REFERENCE: ReasonText(
            Label("引用的记录不存在", "Unknown reference"),
            "引用字段指向的记录不是该主体此前的记录。",
        ),
        Reason.WRONG_REFERENCE_TYPE: ReasonText(
            Label("引用的记录类型不符", "Wrong reference type"),
            "引用字段指向了该字段不允许的记录类型。",
        ),
        Reason.REFERENCE_DATED_LATER: ReasonText(
            Label("引用的记录日期更晚", "Reference dated later"),
            "引用的记录生效时间晚于本事件时间。",
        ),
        Reason.TARGET_REVOKED: ReasonText(
            Label("目标记录已撤销", "Target revoked"),
            "引用的记录已被撤销，不能再修复、提出异议或更正。",
        ),
        Reason.WRONG_AGENCY: ReasonText(
            Label("非认定单位", "Wrong agency"), "只有作出认定的单位可以办理（谁认定、谁约谈）。"
        ),
        Reason.NOT_AUTHORISED: ReasonText(
            Label("无权记录", "Not authorised"), "该来源无权记录此事项（谁认定、谁负责）。"
        ),
        Reason.SOURCE_NOT_ALLOWED: ReasonText(
            Label("来源不允许", "Source not allowed"), "当前身份不得以该 source 提交事件。"
        ),
        Reason.OUT_OF_ORDER: ReasonText(
            Label("流程顺序不符", "Out of order"), "该流程步骤与当前状态不符（例如重复处理异议）。"
        ),
        Reason.REPAIR_TOO_EARLY: ReasonText(
            Label("修复申请过早", "Repair too early"), "未满最短公示期即申请信用修复。"
        ),
        Reason.REPAIR_OBLIGATIONS: ReasonText(
            Label("修复条件未满足", "Repair obligations unmet"),
            "整改、信用修复承诺等义务尚未履行。",
        ),
        Reason.NO_RULE_SET: ReasonText(
            Label("无适用规则", "No rule set"), "记录生效日没有施行中的公示规则。"
        ),
        Reason.CALENDAR_UNKNOWN: ReasonText(
            Label("缺少工作日历", "Calendar unknown"), "计算工作日所需年份的官方日历未加载。"
        ),
        Reason.REPAIR_NOT_APPLICABLE: ReasonText(
            Label("无需修复", "Repair not applicable"), "该记录未公示，无需信用修复。"
        ),
        Reason.DESIGNATION_TOO_EARLY: ReasonText(
            Label("列入决定过早", "Designation too early"),
            "告知和异议期届满前不得作出列入名单决定。",
        ),
        Reason.PERSON_ERASED: ReasonText(
            Label("责任人信息已删除", "Person erased"), "已不再使用的原因代码（保留其含义不变）。"
        ),
        Reason.NOT_MINOR: ReasonText(
            Label("不属于轻微情形", "Not minor"), "处罚标为轻微，但不符合规则中轻微情形的定义。"
        ),
        Reason.LISTING_GROUNDS: ReasonText(
            Label("列入名单依据不足", "Listing grounds"),
            "拟列入名单所依据的认定不符合该名单的列入条件。",
        ),
        Reason.PLANNED_END_TOO_LATE: ReasonText(
            Label("计划移出日期过晚", "Planned end too late"),
            "计划移出日期晚于规则对该名单和地区的上限。",
        ),
        Reason.OPEN_ENDED_NOT_ALLOWED: ReasonText(
            Label("不得无期限列入", "Open-ended not allowed"), "依据不允许无计划移出日期的列入。"
        ),
        Reason.PERMANENT_BAN_NOT_ALLOWED: ReasonText(
            Label("不得终身禁入", "Permanent ban not allowed"), "依据不允许终身禁入。"
        ),
        Reason.REPAIR_METHODS: ReasonText(
            Label("修复方式不符", "Repair methods"),
            "修复申请缺少规则要求的方式，或含有不允许的方式。",
        ),
        Reason.UNKNOWN_MEASURE: ReasonText(
            Label("未知的惩戒措施", "Unknown measure"), "措施代码不在惩戒措施清单中。"
        ),
        Reason.DUPLICATE_MEASURE: ReasonText(
            Label("惩戒措施重复", "Duplicate measure"), "同一认定上已施行同一措施且未解除。"
        ),
        Reason.CONFLICT: ReasonText(
            Label("写入冲突", "Write conflict"), "并发写入持续冲突，请重新提交。"
        ),
        Reason.BEHIND_PUBLISHED: ReasonText(
            Label("落后于已发布的检查点", "Behind published checkpoint"),
            "账本记录少于已发布检查点所载，暂停签发检查点。",
        ),
        Reason.FORKS_PUBLISHED: ReasonText(
            Label("与已发布的检查点不一致", "Forks published checkpoint"),
            "账本与已发布的检查点不一致，暂停签发检查点。",
        ),
        Reason.TYPE_NOT_ALLOWED: ReasonText(
            Label("无权提交该类型", "Type not allowed"), "当前角色不得提交该类型的事件。"
        ),
        Reason.UNAUTHENTICATED: ReasonText(
            Label("需要身份认证", "Unauthenticated"), "需要有效的访问令牌。"
        ),
        Reason.ROLE_NOT_ALLOWED: ReasonText(
            Label("角色无权访问", "Role not allowed"), "当前角色不得使用该接口。"
        ),
        Reason.UNKNOWN_SUBJECT: ReasonText(
            Label("未找到该主体", "Unknown subject"), "该统一社会信用代码在账本中没有记录。"
        ),
        Reason.UNKNOWN_LIST: ReasonText(Label("未知的名单", "Unknown list"), "所指名单不存在。"),
        Reason.INVALID_INSTANT: ReasonText(
            Label("时间点无效", "Invalid instant"),
            "as_of 或 known_at 既不是带时区的 RFC 3339 日期时间，也不是日期。",
        ),
        Reason.INVALID_REQUEST: ReasonText(
            Label("请求无效", "Invalid request"), "请求参数或请求体不符合接口约定。"
        ),
        Reason.NOT_FOUND: ReasonText(Label("未找到", "Not found"), "没有该资源或接口。"),
        Reason.METHOD_NOT_ALLOWED: ReasonText(
            Label("方法不允许", "Method not allowed"), "该接口不支持此 HTTP 方法。"
        ),
        Reason.PAYLOAD_TOO_LARGE: ReasonText(
            Label("请求过大", "Payload too large"), "请求体或批量事件数超过上限。"
        ),
        Reason.UNSUPPORTED_MEDIA_TYPE: ReasonText(
            Label("不支持的媒体类型", "Unsupported media type"), "请求体的 Content-Type 不是 JSON。"
        ),
        Reason.UNAVAILABLE: ReasonText(
            Label("暂不可用", "Unavailable"), "依赖的服务（数据库、投影）尚未就绪，请稍后重试。"
        ),
        Reason.INTERNAL: ReasonText(
            Label("内部错误", "Internal error"),
            "账本内部发生意外错误；除非响应另有说明，未写入任何内容。",
        ),
        Reason.NOT_OWN_SUBJECT: ReasonText(
            Label("不是本主体", "Not your own subject"),
            "主体账户只能查看和提交本主体（统一社会信用代码）的信息。",
        ),
        Reason.INVALID_CURSOR: ReasonText(
            Label("无效的翻页游标", "Invalid cursor"),
            "cursor 不可解析，或属于另一个接口或查询；请从第一页重新开始。",
        ),
        Reason.LIMIT_OUT_OF_RANGE: ReasonText(
            Label("每页条数超出范围", "Limit out of range"),
            "limit 必须是 1 至 1000 之间的整数。",
        ),
    }
)
"""Every reason's title in Chinese and English and its meaning in Chinese (the
English meaning is the docstring of the member). A test keeps one per reason."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one submitted event was refused. Nothing of it was written."""

    code: Reason
    message: str
    """One line a person understands; names the field or value at fault."""
    details: dict[str, Any] = field(default_factory=dict)
    """Machine-readable extras (field name, earliest date, expected value …)."""

    def to_json(self) -> dict[str, Any]:
        return {"code": str(self.code), "message": self.message, **self.details}


class InvalidEvent(ValueError):
    """Raised by parsers and validators; carries the rejection it stands for."""

    def __init__(self, code: Reason, message: str, **details: Any) -> None:
        super().__init__(message)
        self.rejection = Rejection(code, message, details)
