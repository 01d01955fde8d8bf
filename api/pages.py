"""Server-rendered pages (Jinja2 templates in ``api/templates``, CSS and a little
plain JS in ``api/static``; no build step). Labels are Chinese and English.

* ``/`` and ``/search?q=`` — the public disclosure search, by code or by name;
* ``/subjects/{code}`` — the public subject page in the style of 信用中国: name,
  code, tabs (行政处罚 / 失信名单 / 失信行为 / 信用承诺 / 禁入与惩戒 / 守信信息 /
  责任人) with only what the disclosure view publishes (``as_of`` optional);
* ``/lists/{name}`` — the members of a public list (``as_of`` optional);
* ``/login`` (form) and ``/logout`` — put a bearer token into the
  ``ledger_token`` cookie (HttpOnly, SameSite=Strict) for the auditor pages;
* ``/problems/{code}`` — what a problem ``type`` (a reason code) means;
* ``/audit/subjects/{code}`` — an auditor's (or objection handler's) timeline:
  a date slider that reloads standing, disclosure and history as of that day
  through the v1 API (the cookie authenticates the GETs), marking corrections
  and objections.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from starlette.responses import RedirectResponse, Response

from api.audience import audience_of
from api.auth import COOKIE, ENDPOINT_ROLES, current_principal
from api.page_labels import page_label
from api.problems import ProblemError, language_of, reason_docs
from api.read_side import UnknownSubject
from api.services import Services, services
from api.submit import read_body
from api.timeline_picture import course_days, picture
from api.tokens import ANONYMOUS, Principal
from events.codes import validate_subject_code
from events.instants import CST, InvalidInstant, from_us, parse_instant
from events.labels import codes
from events.reasons import InvalidEvent
from projections.course import score_course
from projections.reads import SubjectViewsFailed

__all__ = ["TABS", "pages_router", "problem_page"]

pages_router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")

TABS: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("license", "行政许可", "Administrative licences", ("license",)),
    ("penalty", "行政处罚", "Administrative penalties", ("penalty",)),
    ("list", "失信名单", "Dishonesty lists", ("list",)),
    ("violation", "失信行为", "Dishonest conduct", ("violation",)),
    ("commitment", "信用承诺", "Credit commitments", ("commitment",)),
    ("ban", "禁入与惩戒", "Bans and measures", ("ban", "measure")),
    ("incentive", "守信激励", "Incentives", ("incentive",)),
    ("registration", "守信信息", "Positive information", ("registration",)),
    ("person", "责任人", "Responsible persons", ("person",)),
    ("notice", "撤回说明", "Withdrawal notices", ("withdrawal-notice",)),
]
"""(id, Chinese label, English label, disclosure item kinds) of the subject page's tabs."""

@pass_context
def _label_filter(context: Any, code: Any, kind: str, lang: str = "zh") -> str:
    """``{{ code|label("penalty-kind") }}``: what a person reads for a code
    (:func:`api.page_labels.page_label` over the app's rule services: agencies and
    measures by their registry names). A code the ledger has no words for is shown as
    it is; a list of codes is joined with 、."""
    return page_label(_rules(context["request"]), kind, code, lang)


def _rules(request: Request) -> Any:
    return getattr(request.app.state.services.ledger, "rules", None)


templates.env.filters["label"] = _label_filter


def _page(
    request: Request,
    name: str,
    context: dict[str, Any],
    status: int = 200,
    principal: Principal | None = None,
) -> Response:
    """The page ``name``; its header names ``principal`` (default: the request's)."""
    return templates.TemplateResponse(
        request,
        name,
        {"principal": principal or current_principal(request), **context},
        status_code=status,
    )


def _error(
    request: Request, status: int, title: str, detail: str, code: str | None = None
) -> Response:
    """The error page. Its header names who is signed in only when the credentials
    are good: the error may be the credentials themselves (an unknown bearer token),
    and the page must still be the 401, not a second failure while rendering it."""
    try:
        principal = current_principal(request)
    except ProblemError:
        principal = ANONYMOUS
    context = {"title": title, "detail": detail, "code": code}
    return _page(request, "error.html", context, status, principal)


STATUS_TITLES = {
    400: "请求有误",
    401: "请先登录",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持此操作",
    409: "与已有记录冲突",
    413: "提交的内容过大",
    415: "不支持的内容格式",
    422: "无法受理",
    429: "请求过于频繁",
    500: "服务器内部错误",
    503: "暂时无法提供服务",
}
"""The Chinese title of an error page by HTTP status."""


def problem_page(request: Request, status: int, code: str, detail: str) -> Response:
    """A problem as a page for a browser (:data:`api.problems.ProblemPage`): the Chinese
    title of its status, its detail, and a link to what its reason code means."""
    title = STATUS_TITLES.get(status, "请求未能完成")
    return _error(request, status, title, detail, code)


def _page_refused(
    request: Request, principal: Principal, endpoint: str, what: str
) -> Response | None:
    """None when ``principal`` may see the page of ``endpoint`` (``ENDPOINT_ROLES``);
    else the login page for the anonymous, a 403 page naming ``what`` (Chinese / English)
    for other roles."""
    if principal.role in ENDPOINT_ROLES[endpoint]:
        return None
    if principal.anonymous:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
    return _error(
        request, 403, "无权访问 Not allowed", f"{page_label(_rules(request), 'role', principal.role.value)}不能查看{what}"
    )


@pages_router.get("/")
def index(request: Request) -> Response:
    return _page(request, "index.html", {"query": ""})


@pages_router.get("/search")
def search(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    q: str = "",
    cursor: str | None = None,
) -> Response:
    from api.records import search_page

    query = q.strip()
    try:
        page = search_page(svc.names, query, SEARCH_PAGE, cursor) if query else None
    except ProblemError as e:
        return _error(request, 400, "链接已失效 Stale link", f"{e.detail} [{e.code}]")
    hits = page.items if page is not None else []
    if len(hits) == 1 and hits[0].subject == query.upper() and cursor is None:
        return RedirectResponse(f"/subjects/{hits[0].subject}", status_code=303)
    more = f"/search?q={quote(query)}&cursor={page.next}" if page and page.next else None
    total = page.total if page is not None else 0
    return _page(request, "search.html", {"query": query, "hits": hits, "total": total, "more": more})


SEARCH_PAGE = 50
"""Subjects per search page (a "more" link follows when there are more)."""


def _code_or_error(request: Request, code: str) -> str | Response:
    try:
        return validate_subject_code(code)
    except InvalidEvent as e:
        return _error(request, 400, "统一社会信用代码有误 Invalid code", e.rejection.message)


def _as_of(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return parse_instant(text)
    except InvalidInstant as e:
        raise ProblemError(400, e.reason, f"as_of: {e}") from e


@pages_router.get("/subjects/{code}")
def subject_page(
    request: Request,
    code: str,
    svc: Annotated[Services, Depends(services)],
    as_of: str | None = None,
) -> Response:
    checked = _code_or_error(request, code)
    if isinstance(checked, Response):
        return checked
    try:
        as_of_us = _as_of(as_of)
        view = svc.views.disclosure(
            checked, as_of_us, None, audience_of(current_principal(request))
        )
    except UnknownSubject:
        return _error(
            request,
            404,
            "未找到主体 Subject not found",
            f"没有 {checked} 的记录 / no records of {checked}",
        )
    except ProblemError as e:
        return _error(request, 400, "日期有误 Invalid date", f"{e.detail} [{e.code}]")
    except SubjectViewsFailed as e:
        return _error(request, 503, "暂时无法显示 Temporarily unavailable", str(e))
    body = view.body
    lang = page_language(request)
    published = [reason_in(i, lang) for i in body.get("items", []) if i.get("published")]
    tabs = [
        {"id": tid, "zh": zh, "en": en, "items": [i for i in published if i.get("kind") in kinds]}
        for tid, zh, en, kinds in TABS
    ]
    moment = from_us(as_of_us).astimezone(CST).date() if as_of_us else None
    return _page(
        request,
        "subject.html",
        {
            "code": checked,
            "name": body.get("subject_name") or svc.names.name(checked),
            "tabs": tabs,
            "as_of": moment.isoformat() if moment else "",
            "may_audit": current_principal(request).role in ENDPOINT_ROLES["history"],
            "lang": lang,
        },
    )


LIST_PAGE = 100
"""Members per list page (a "more" link follows when there are more)."""


def page_language(request: Request) -> str:
    """The language of a page: ``en`` under ``Accept-Language: en``, else Chinese."""
    return language_of(request.headers.get("accept-language"), default="zh")


def reason_in(item: dict[str, Any], lang: str) -> dict[str, Any]:
    """A disclosure item whose ``reason`` is in ``lang`` (Chinese: ``reason_zh``;
    the item itself is shared and read-only, so a copy)."""
    if lang != "zh" or not item.get("reason_zh"):
        return item
    return {**item, "reason": item["reason_zh"]}


LIST_TITLES = {
    "serious-dishonesty": ("严重失信主体名单", "Serious dishonesty list"),
    "focus": ("重点关注名单", "Focus list"),
    "bans": ("市场和行业禁入", "Market and industry bans"),
    "trustworthy": ("守信激励对象名单", "Trustworthy list"),
}


@pages_router.get("/lists/{name}")
def list_page(
    request: Request,
    name: str,
    svc: Annotated[Services, Depends(services)],
    as_of: str | None = None,
    cursor: str | None = None,
) -> Response:
    from api.list_routes import members_page

    if name not in LIST_TITLES:
        return _error(request, 404, "未知名单 Unknown list", name)
    try:
        as_of_us = _as_of(as_of)
    except ProblemError as e:
        return _error(request, 400, "日期有误 Invalid date", f"{e.detail} [{e.code}]")
    if name == "trustworthy":
        from projections.trustworthy import members

        everything = audience_of(current_principal(request)).everything
        try:
            body = members(svc.views.reads, as_of_us if everything else None)  # type: ignore[attr-defined]
        except (ValueError, OverflowError) as e:  # an instant outside the calendar
            return _error(request, 400, "日期有误 Invalid date", str(e))
    else:
        body = svc.views.list_members(
            name, as_of_us, None, audience_of(current_principal(request))
        ).body
    try:
        body = members_page(body, f"{name}:{as_of or ''}:page", LIST_PAGE, cursor)
    except ProblemError as e:
        return _error(request, 400, "链接已失效 Stale link", f"{e.detail} [{e.code}]")
    more = body["next"] and f"/lists/{name}?as_of={quote(as_of or '')}&cursor={body['next']}"
    zh, en = LIST_TITLES[name]
    return _page(
        request,
        "list.html",
        {
            "name": name,
            "zh": zh,
            "en": en,
            "members": body.get("members", []),
            "subjects": body["subjects"],
            "listings": body["total"],
            "more": more,
            "as_of": as_of or "",
            "titles": LIST_TITLES,
        },
    )


# -- login ------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@pages_router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _page(request, "login.html", {"next": _safe_next(next), "failed": False})


LOGIN_MAX_BYTES = 16 * 1024
"""The login form holds a token and a path: a larger body is refused (413) unread."""


@pages_router.post("/login")
async def login(request: Request, svc: Annotated[Services, Depends(services)]) -> Response:
    length = request.headers.get("content-length")
    body = await read_body(length, request.stream(), LOGIN_MAX_BYTES)
    form = parse_qs(body.decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()
    target = _safe_next((form.get("next") or ["/"])[0])
    principal = svc.tokens.verify(token) if token else None
    if principal is None:
        return _page(request, "login.html", {"next": target, "failed": True}, 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response


@pages_router.get("/logout")
def logout() -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


# -- the auditor's timeline -------------------------------------------------------------


@pages_router.get("/audit/subjects/{code}")
def timeline_page(
    request: Request,
    code: str,
    principal: Annotated[Principal, Depends(current_principal)],
    svc: Annotated[Services, Depends(services)],
) -> Response:
    refused = _page_refused(
        request, principal, "history", "审计时间线 / this role may not see the timeline"
    )
    if refused is not None:
        return refused
    checked = _code_or_error(request, code)
    if isinstance(checked, Response):
        return checked
    records = svc.ledger.stream(checked)
    if not records:
        return _error(request, 404, "未找到主体 Subject not found", f"没有 {checked} 的记录")
    rules = svc.ledger.rules
    assert rules is not None
    first = min(from_us(r.time_us).astimezone(CST).date() for r in records)
    today = from_us(svc.clock()).astimezone(CST).date()
    start = date(first.year, first.month, 1)
    end = max(today, start)
    marks = [
        {
            "day": from_us(r.time_us).astimezone(CST).date().isoformat(),
            "type": r.type,
            "id": r.id,
            "label": page_label(rules, "type", r.type),
            "source": page_label(rules, "agency", r.source),
        }
        for r in records
    ]
    items = svc.views.disclosure(checked, None, None, audience_of(principal)).body.get("items", [])
    course = score_course(checked, records, course_days(marks, items, end), rules)
    return _page(
        request,
        "timeline.html",
        {
            "code": checked,
            "name": svc.names.name(checked),
            "start": start.isoformat(),
            "end": end.isoformat(),
            "days": (end - start).days,
            "marks": marks,
            "picture": picture(rules, start, end, marks, course, items),
            "labels": {
                "type": {t: page_label(rules, "type", t) for t in {r.type for r in records}},
                "agency": {r.source: page_label(rules, "agency", r.source) for r in records},
                "list": {n: page_label(rules, "list", n) for n in LIST_TITLES},
                "relation": {r: page_label(rules, "relation", r) for r in codes("relation")},
                "outcome": {o: page_label(rules, "outcome", o) for o in codes("outcome")},
                "system": {
                    c: page_label(rules, "system-record", c) for c in codes("system-record")
                },
            },
        },
    )


# -- problem types ----------------------------------------------------------------------

_REASON_DOCS: dict[str, str] = {}


@pages_router.get("/problems/{code}")
def problem_type(request: Request, code: str) -> Response:
    """The page a problem's ``type`` URI names: what the reason code means."""
    if not _REASON_DOCS:
        _REASON_DOCS.update(reason_docs())
    doc = _REASON_DOCS.get(code)
    if doc is None:
        return _error(request, 404, "未知原因代码 Unknown reason code", code)
    return _page(request, "problem.html", {"code": code, "doc": doc})
