"""The pages where people act: the objection handler's desk and the subject's 我的信用.

* ``/objections`` — the handler's queue (``api.objections``): pending objections,
  overdue first, each with its decide-by day, the targeted record as the ledger knew
  it when the objection was filed, and a form to resolve it: upheld → correction
  (fields ``name=value``, one a line) or revocation; rejected → reasons.
* ``/mine`` — a subject's own page: every record of its own (ended ones too, marked
  why), each request's progress (受理, 核实, 决定) with its deadlines, and forms to
  file an objection, request repair (with a repair commitment) and make a commitment.

Every form builds CloudEvents and sends them down the same path as ``POST
/v1/events`` (:func:`api.submit.authorise`, then :func:`api.submit.submit`: the
role's narrowing, then the ledger's decide path with the authority rules of
``commands.authority``); what is refused is shown with its reason. Forms are
authenticated by the login cookie plus a form key derived from the token
(:func:`form_key`), which a page of another site cannot read — the cookie alone
never submits (``api.auth``).
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from api.audience import audience_of
from api.auth import COOKIE, current_principal
from api.objections import queue_page, subject_requests
from api.page_labels import page_label
from api.pages import _error, _page, _page_refused, templates
from api.problems import ProblemError
from api.services import Services, services
from api.submit import authorise, read_body, submit
from api.tokens import Principal, Role
from events.envelope import parse_submission
from events.instants import CST, from_us

__all__ = ["desk_router", "form_key"]

desk_router = APIRouter(include_in_schema=False)

FORM_MAX_BYTES = 64 * 1024
"""A form holds a few fields: a larger body is refused (413) unread."""
QUEUE_PAGE = 20

_LABELS: dict[str, dict[str, str]] = {
    "step": {"accepted": "受理", "verifying": "核实", "decided": "决定"},
    "outcome": {
        "upheld": "异议成立，已更正或撤销",
        "awaiting-correction": "异议成立，待更正",
        "rejected": "驳回",
        "approved": "准予修复",
    },
    "request": {"objection": "异议申请", "repair": "信用修复申请"},
    "stage": {"verifying": "核实中", "decided": "已决定", "withdrawn": "已撤回"},
    "ended": {
        "repaired": "已修复",
        "expired": "公示期满",
        "withdrawn": "已撤回",
        "revoked": "已撤销",
        "removed": "已移出",
        "lifted": "已解除",
        "ended": "已结束",
    },
}
"""The words of this desk's own codes (a request's steps, stages and outcomes, why a
publication ended); every code of the vocabulary is shown through the pages' ``label``
filter (``events.labels``)."""
REPAIR_METHODS = ("commitment", "rectification", "verification", "training", "report", "charity")
COMMITMENT_TYPES = ("approval-substitute", "voluntary", "industry", "repair")


def desk_label(code: object, kind: str) -> str:
    """The words of one of this desk's codes (``_LABELS``); an unknown one as it is."""
    if code is None or code == "":
        return ""
    return _LABELS.get(kind, {}).get(str(code), str(code))


templates.env.globals["desk_label"] = desk_label


_FIELD_KINDS = {
    "kinds": "penalty-kind",
    "procedure": "procedure",
    "severity": "severity",
    "sector": "sector",
    "behaviour": "behaviour",
    "list": "list",
    "role": "person-role",
    "measure": "measure",
    "reason": "removal-reason",
    "commitment_type": "commitment-type",
    "scheme": "scheme",
}
"""The label kind of the values of a record's data fields (the rest are shown as sent)."""
_UNLISTED_FIELDS = ("basis", "document", "subject_name")
"""Fields the desk shows in rows of their own (or not at all)."""


def record_fields(rules: Any, data: dict[str, Any]) -> list[tuple[str, str]]:
    """A record's data as (field, value) rows a person reads: each field by its
    ``field`` label, each coded value by its kind's label (``_FIELD_KINDS``)."""
    rows = []
    for key, value in data.items():
        if key in _UNLISTED_FIELDS:
            continue
        code = key.replace("_", "-")
        name = page_label(rules, "field", code)
        kind = _FIELD_KINDS.get(key)
        if value is None or value == "" or value == []:
            text = "—"
        elif kind is not None:
            text = page_label(rules, kind, value)
        elif isinstance(value, list):
            text = "、".join(str(v) for v in value)
        else:
            text = str(value)
        rows.append((key if name == code else name, text))
    return rows


def _target_data(item: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = (item.get("target_record") or {}).get("data") or {}
    return data


def form_key(token: str) -> str:
    """The key a form must carry beside the login cookie (derived from the token)."""
    return hashlib.sha256(b"credit-ledger form:" + token.encode()).hexdigest()[:32]


async def _form(request: Request) -> dict[str, list[str]]:
    body = await read_body(request.headers.get("content-length"), request.stream(), FORM_MAX_BYTES)
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def _one(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def _form_principal(request: Request, svc: Services, form: dict[str, list[str]]) -> Principal:
    """The principal of a form post: the login cookie's token, with its form key."""
    token = request.cookies.get(COOKIE) or ""
    principal = svc.tokens.verify(token) if token else None
    if principal is None or not hmac.compare_digest(_one(form, "form_key"), form_key(token)):
        raise ProblemError(403, "role-not-allowed", "表单已失效，请重新登录 (sign in again)")
    return principal


def _now_text(svc: Services) -> str:
    return from_us(svc.clock()).astimezone(CST).isoformat(timespec="seconds")


def _event(
    principal: Principal, svc: Services, type_: str, subject: str, data: dict[str, Any], tag: str
) -> dict[str, Any]:
    source = principal.agency or f"subject/{principal.subject}"
    return {
        "specversion": "1.0",
        "id": f"{tag}-{_now_text(svc)[:10].replace('-', '')}-{uuid.uuid4().hex[:12]}",
        "source": source,
        "type": type_,
        "subject": subject,
        "time": _now_text(svc),
        "datacontenttype": "application/json",
        "data": data,
    }


def _send(principal: Principal, svc: Services, events: list[dict[str, Any]]) -> str | None:
    """Submit ``events`` as one batch down the API's path; None when every one was
    recorded (or a repeat), else the first refusal for a person."""
    items = authorise(principal, parse_submission(orjson.dumps(events)))
    for outcome in submit(svc.ledger, items):
        if outcome.status == "rejected":
            return f"{outcome.message} [{outcome.code}]"
    return None


def _token(request: Request) -> str:
    return request.cookies.get(COOKIE) or ""


# -- the objection handler's desk -------------------------------------------------------


def _queue_response(
    request: Request,
    svc: Services,
    principal: Principal,
    cursor: str | None,
    message: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    try:
        page = queue_page(svc, principal, False, QUEUE_PAGE, cursor)
    except ProblemError as e:
        return _error(request, 400, "链接已失效 Stale link", f"{e.detail} [{e.code}]")
    more = f"/objections?cursor={page.next}" if page.next else None
    rules = svc.ledger.rules
    items = [
        {**item, "target_fields": record_fields(rules, _target_data(item))} for item in page.items
    ]
    context = {
        "items": items,
        "total": page.total,
        "more": more,
        "form_key": form_key(_token(request)),
        "message": message,
    }
    return _page(request, "objections.html", context, status)


@desk_router.get("/objections")
def objections_page(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    svc: Annotated[Services, Depends(services)],
    cursor: str | None = None,
    done: str | None = None,
) -> Response:
    refused = _page_refused(request, principal, "objections", "异议处理 / the objection queue")
    if refused is not None:
        return refused
    message = {"kind": "ok", "text": f"已提交处理决定 {done}"} if done else None
    return _queue_response(request, svc, principal, cursor, message)


def _changes(text: str) -> dict[str, Any] | None:
    """``name=value`` lines as the corrected fields (None when a line is not one)."""
    changes: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.strip():
            return None
        changes[name.strip()] = value.strip()
    return changes


@desk_router.post("/objections/resolve")
async def resolve_objection(
    request: Request, svc: Annotated[Services, Depends(services)]
) -> Response:
    form = await _form(request)
    principal = _form_principal(request, svc, form)
    if principal.role is not Role.HANDLER:
        return _error(request, 403, "无权处理异议 Not allowed", "只有异议处理人员可以处理异议")
    subject, objection = _one(form, "subject"), _one(form, "objection")
    outcome, action, reasons = _one(form, "outcome"), _one(form, "action"), _one(form, "reasons")
    data: dict[str, Any] = {"objection": objection, "outcome": outcome, "reasons": reasons}
    problem = None
    if outcome not in ("upheld", "rejected") or not reasons:
        problem = "请选择处理结果并填写理由 (choose an outcome and give reasons)"
    elif outcome == "upheld" and action == "revoke":
        data["revoke"] = True
    elif outcome == "upheld" and action == "correct":
        changes = _changes(_one(form, "changes"))
        if not changes:
            problem = "更正内容应为每行一项“字段=新值” (one field=value a line)"
        data["changes"] = changes
    if problem is None:
        event = _event(principal, svc, "credit.objection.resolved", subject, data, "resolution")
        problem = _send(principal, svc, [event])
        if problem is None:
            return RedirectResponse(f"/objections?done={quote(objection)}", status_code=303)
    message = {"kind": "error", "text": problem}
    return _queue_response(request, svc, principal, None, message, 422)


# -- the subject's own page (我的信用) --------------------------------------------------


def _mine_response(
    request: Request,
    svc: Services,
    principal: Principal,
    message: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    code = str(principal.subject)
    try:
        records = svc.views.disclosure(code, None, None, audience_of(principal)).body
    except LookupError:
        records = {"items": []}
    requests = subject_requests(svc, code) or []
    context = {
        "code": code,
        "name": svc.names.name(code),
        "items": records.get("items", []),
        "requests": requests,
        "form_key": form_key(_token(request)),
        "message": message,
        "methods": list(REPAIR_METHODS),
        "commitment_types": list(COMMITMENT_TYPES),
    }
    return _page(request, "mine.html", context, status)


@desk_router.get("/mine")
def mine_page(
    request: Request,
    principal: Annotated[Principal, Depends(current_principal)],
    svc: Annotated[Services, Depends(services)],
    done: str | None = None,
) -> Response:
    if principal.anonymous:
        return RedirectResponse("/login?next=/mine", status_code=303)
    if principal.role is not Role.SUBJECT:
        return _error(request, 403, "无权访问 Not allowed", "我的信用页面只供市场主体本身使用")
    message = {"kind": "ok", "text": f"已提交 {done}"} if done else None
    return _mine_response(request, svc, principal, message)


def _filing(
    form: dict[str, list[str]], principal: Principal, svc: Services
) -> list[dict[str, Any]] | str:
    """The events a subject's form asks for, or what is missing (for a person)."""
    code = str(principal.subject)
    kind, target = _one(form, "kind"), _one(form, "target")
    if kind == "objection":
        grounds = _one(form, "grounds")
        if not target or not grounds:
            return "请选择记录并填写异议理由 (choose a record and give grounds)"
        data = {"target": target, "grounds": grounds}
        return [_event(principal, svc, "credit.objection.filed", code, data, "objection")]
    if kind == "repair":
        methods = [m for m in form.get("methods", []) if m in REPAIR_METHODS]
        if not target or not methods:
            return "请选择记录和修复方式 (choose a record and the repair methods)"
        events = []
        if _one(form, "with_commitment"):
            matter = f"信用修复承诺：{target}"
            promise = {"commitment_type": "repair", "matter": matter, "due": None}
            events.append(
                _event(principal, svc, "credit.commitment.made", code, promise, "commitment")
            )
        request = {"target": target, "methods": methods}
        events.append(_event(principal, svc, "credit.repair.requested", code, request, "repair"))
        return events
    if kind == "commitment":
        ctype, matter, due = _one(form, "commitment_type"), _one(form, "matter"), _one(form, "due")
        if ctype not in COMMITMENT_TYPES or not matter:
            return "请选择承诺类型并填写承诺事项 (choose a type and describe the matter)"
        promise = {"commitment_type": ctype, "matter": matter, "due": due or None}
        return [_event(principal, svc, "credit.commitment.made", code, promise, "commitment")]
    return "未知的申请类型 (unknown kind of filing)"


@desk_router.post("/mine/file")
async def file_request(request: Request, svc: Annotated[Services, Depends(services)]) -> Response:
    form = await _form(request)
    principal = _form_principal(request, svc, form)
    if principal.role is not Role.SUBJECT:
        return _error(request, 403, "无权访问 Not allowed", "只有市场主体本身可以在此提交")
    events = _filing(form, principal, svc)
    problem = events if isinstance(events, str) else _send(principal, svc, events)
    if problem is None and not isinstance(events, str):
        return RedirectResponse(f"/mine?done={quote(events[-1]['id'])}", status_code=303)
    return _mine_response(request, svc, principal, {"kind": "error", "text": str(problem)}, 422)
