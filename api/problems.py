"""RFC 9457 problem details: every error the API returns.

Each problem is ``application/problem+json`` with ``type`` (a URI reference
naming the reason, ``/problems/<code>``), ``title``, ``status``, ``detail``,
``instance`` (the request path) and ``code``: the stable
:class:`~events.reasons.Reason` value shared with the CLI and Kafka. Extra
members carry machine-readable details (the rejection's details; ``errors``:
per-event results of a batch; ``invalid``: per-parameter validation errors).

Language: under ``Accept-Language: zh`` (preferred over ``en``) ``title`` and
``detail`` are Chinese (the reason's title and meaning,
:data:`events.reasons.REASON_TEXTS`) and the English detail, which names the
field or value at fault, stays in ``detail_en``; otherwise (``en``, or no
header) they are English: the reason's title and the rejection's own message.
``code`` is the same in both; ``Content-Language`` says which was chosen.

:class:`ProblemError` is raised by handlers and dependencies; the exception
handlers installed by :func:`install` turn it, request validation errors,
Starlette's HTTP errors and any unexpected exception into problem responses.
A browser (a request whose ``Accept`` names ``text/html`` before any JSON type) is
answered the same status as a page in Chinese instead, when the app was given a
page renderer (``install(app, page=…)``; the pages pass theirs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from events.reasons import REASON_TEXTS, Reason, Rejection

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ProblemError",
    "ProblemPage",
    "ProblemResponse",
    "answer",
    "install",
    "invalid_request",
    "language_of",
    "problem_body",
    "status_of_rejection",
    "wants_html",
]

PROBLEM_MEDIA_TYPE = "application/problem+json"
_log = logging.getLogger("api")

# Reasons whose HTTP status is not 422 when a single event is rejected.
_REJECTION_STATUS: dict[str, int] = {
    Reason.NOT_JSON: 400,
    Reason.SOURCE_NOT_ALLOWED: 403,
    Reason.TYPE_NOT_ALLOWED: 403,
    Reason.NOT_OWN_SUBJECT: 403,
    Reason.ID_REUSED: 409,
    Reason.CONFLICT: 409,
    Reason.UNAVAILABLE: 503,  # e.g. a person index keyed with a secret not held: retry later
}


def status_of_rejection(code: str) -> int:
    """The HTTP status of a single rejected event with reason ``code`` (422 by default)."""
    return _REJECTION_STATUS.get(code, 422)


def language_of(accept_language: str | None, default: str = "en") -> str:
    """``zh`` or ``en``: the first of them in ``Accept-Language`` by weight
    (``zh-CN``, ``zh-Hans`` … count as ``zh``), else ``default``."""
    best: tuple[float, int, str] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("zh", "en"):
            continue
        weight = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                weight = float(params[2:])
            except ValueError:
                weight = 0.0
        if weight > 0 and (best is None or (weight, -position) > (best[0], best[1])):
            best = (weight, -position, primary)
    return default if best is None else best[2]


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    title: str | None = None,
    lang: str = "en",
    **extra: Any,
) -> dict[str, Any]:
    """The problem object (a plain dict, ready for orjson) in ``lang`` (module docstring)."""
    text = REASON_TEXTS.get(Reason(code)) if code in _REASON_CODES else None
    if lang == "zh" and text is not None:
        title, detail, extra = text.title.zh, text.detail_zh, {**extra, "detail_en": detail}
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title or (text.title.en if text is not None else _title(status)),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return body


_REASON_CODES = frozenset(str(r) for r in Reason)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:  # pragma: no cover - we only use standard statuses
        return "Error"


class ProblemResponse(Response):
    """A problem details response rendered with orjson."""

    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class ProblemError(Exception):
    """Raise to answer with a problem. ``extra`` members are added to the body;
    ``headers`` to the response (e.g. ``WWW-Authenticate``)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = str(code)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    @classmethod
    def of_rejection(cls, rejection: Rejection, status: int | None = None) -> ProblemError:
        """The problem for one rejection: its code, message and details."""
        code = str(rejection.code)
        return cls(
            status or status_of_rejection(code), code, rejection.message, **rejection.details
        )

    def response(self, request: Request) -> ProblemResponse:
        lang = language_of(request.headers.get("accept-language"))
        body = problem_body(
            self.status, self.code, self.detail, instance=request.url.path, lang=lang, **self.extra
        )
        headers = {**self.headers, "Content-Language": lang}
        return ProblemResponse(body, status_code=self.status, headers=headers)


ProblemPage = Callable[[Request, int, str, str], Response]
"""Renders a problem for a browser: (request, status, reason code, detail) → an HTML page."""


def wants_html(request: Request) -> bool:
    """Whether the client asked for a page: ``text/html`` named in ``Accept`` before any
    JSON media type (a browser's navigation; ``fetch`` with ``Accept: application/json``
    and API clients get problem JSON)."""
    accept = request.headers.get("accept", "").lower()
    html = accept.find("text/html")
    if html < 0:
        return False
    json_at = [i for i in (accept.find("application/json"), accept.find("+json")) if i >= 0]
    return not json_at or html < min(json_at)


def answer(request: Request, problem: ProblemError) -> Response:
    """The problem as JSON, or as the app's page for a browser."""
    page: ProblemPage | None = getattr(request.app.state, "problem_page", None)
    if page is not None and wants_html(request):
        response = page(request, problem.status, problem.code, problem.detail)
        response.headers.update(problem.headers)
        return response
    return problem.response(request)


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return answer(request, exc)


def invalid_request(errors: Iterable[Mapping[str, Any]]) -> ProblemError:
    """The 400 ``invalid-request`` of validation ``errors`` (pydantic's, each with its
    ``loc`` and ``msg``): every invalid parameter named with its reason."""
    invalid = [
        {"name": _location(e.get("loc", ())), "reason": str(e.get("msg", "invalid"))}
        for e in errors
    ]
    detail = "; ".join(f"{i['name']}: {i['reason']}" for i in invalid) or "invalid request"
    return ProblemError(400, Reason.INVALID_REQUEST, detail, invalid=invalid)


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return answer(request, invalid_request(exc.errors()))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    code = {
        404: Reason.NOT_FOUND,
        405: Reason.METHOD_NOT_ALLOWED,
        413: Reason.PAYLOAD_TOO_LARGE,
        415: Reason.UNSUPPORTED_MEDIA_TYPE,
        401: Reason.UNAUTHENTICATED,
        403: Reason.ROLE_NOT_ALLOWED,
    }.get(status, Reason.INVALID_REQUEST if status < 500 else Reason.INTERNAL)
    detail = exc.detail if isinstance(exc.detail, str) else _title(status)
    if status == 404 and detail == "Not Found":
        detail = f"no such endpoint: {request.method} {request.url.path}"
    elif status == 405:
        detail = f"{request.method} is not allowed on {request.url.path}"
    headers = dict(exc.headers or {})
    return answer(request, ProblemError(status, code, detail, headers=headers))


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    _log.exception("unexpected error on %s %s", request.method, request.url.path)
    return answer(
        request,
        ProblemError(500, Reason.INTERNAL, f"unexpected {type(exc).__name__}; the ledger logged it"),
    )


def install(app: FastAPI, page: ProblemPage | None = None) -> None:
    """Install the exception handlers that turn every error into a problem (and, with
    ``page``, into that page for a browser)."""
    app.state.problem_page = page
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)


def reason_docs() -> dict[str, str]:
    """Reason code → its one-line description (the attribute docstrings of
    :class:`~events.reasons.Reason`, read from the source once)."""
    import ast
    import inspect
    import itertools

    from events import reasons

    tree = ast.parse(inspect.getsource(reasons))
    docs: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Reason":
            body = node.body
            for here, after in itertools.pairwise(body):
                if (
                    isinstance(here, ast.Assign)
                    and isinstance(here.value, ast.Constant)
                    and isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant)
                ):
                    docs[str(here.value.value)] = " ".join(str(after.value.value).split())
    return docs
