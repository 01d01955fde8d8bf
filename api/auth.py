"""Authentication (bearer tokens) and the role matrix.

A request carries ``Authorization: Bearer <token>``; the pages may instead carry
the token in the ``ledger_token`` cookie, which counts for safe methods (GET,
HEAD) only, so a cross-site form cannot submit events with it. No credentials
means the anonymous ``public`` principal. A presented header token that is
unknown or revoked is a 401 ``unauthenticated`` (a stale cookie is ignored).

:func:`require` builds the dependency of an endpoint: the public on an endpoint
that needs a role gets 401 with ``WWW-Authenticate: Bearer``; an authenticated
principal whose role is not allowed gets 403 ``role-not-allowed``. A ``subject``
token is admitted to the endpoints of :data:`SUBJECT_OWN` about its own code only
(the path's ``{code}``): any other code is a 403 ``not-own-subject``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer

from api.problems import ProblemError
from api.tokens import ANONYMOUS, Principal, Role, TokenStore
from events.reasons import Reason

__all__ = [
    "COOKIE",
    "ENDPOINT_ROLES",
    "HANDLER_TYPES",
    "SUBJECT_OWN",
    "SUBJECT_TYPES",
    "admit",
    "current_principal",
    "own_subject",
    "principal_of",
    "require",
]

COOKIE = "ledger_token"
"""The cookie the login page sets (HttpOnly, SameSite=Strict)."""

EVERYONE = frozenset(Role)
ENDPOINT_ROLES: dict[str, frozenset[Role]] = {
    "submit": frozenset({Role.AGENCY, Role.HANDLER}),
    "standing": frozenset({Role.AGENCY, Role.AUDITOR, Role.HANDLER}),
    "history": frozenset({Role.AUDITOR, Role.HANDLER}),
    "disclosure": EVERYONE,
    "lists": EVERYONE,
    "audit-bundle": frozenset({Role.AUDITOR}),
    "persons": frozenset({Role.AUDITOR}),
    "checkpoints": EVERYONE,
    "warnings": frozenset({Role.AGENCY, Role.AUDITOR}),
    "statistics": frozenset({Role.AGENCY, Role.AUDITOR}),
    "exports": frozenset({Role.AGENCY, Role.AUDITOR}),
    "records": EVERYONE,
    "search": EVERYONE,
    "public-key": EVERYONE,
    "requests": frozenset({Role.AUDITOR, Role.HANDLER}),
    "objections": frozenset({Role.HANDLER}),
}
"""Which roles may use which endpoint (DESIGN.md "HTTP API (v1)")."""

SUBJECT_OWN = frozenset({"submit", "standing", "history", "requests"})
"""The endpoints a ``subject`` token may use as well, about its own code only (its
records, objections, repair requests and commitments; DESIGN.md second wave)."""

SUBJECT_TYPES = frozenset(
    {
        "credit.objection.filed",
        "credit.repair.requested",
        "credit.commitment.made",
        "credit.commitment.withdrawn",
        "credit.registration.submitted",
    }
)
"""The only event types a subject token may submit (its filings), as ``subject/USCC``."""

HANDLER_TYPES = frozenset(
    {"credit.objection.resolved", "credit.record.corrected", "credit.record.revoked"}
)
"""The only event types an objection handler may submit."""

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="A token from `ledger token add`; the principal's role decides what it may do.",
)


def _unauthenticated(detail: str) -> ProblemError:
    return ProblemError(
        401,
        Reason.UNAUTHENTICATED,
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="credit-ledger"'},
    )


def current_principal(request: Request) -> Principal:
    """The principal of the request (anonymous public without credentials).

    Raises 401 for a malformed Authorization header or an unknown token.
    """
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    tokens: TokenStore = request.app.state.services.tokens
    header = request.headers.get("authorization")
    principal = ANONYMOUS
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise _unauthenticated("the Authorization header must be 'Bearer <token>'")
        found = tokens.verify(value.strip())
        if found is None:
            raise _unauthenticated("the bearer token is unknown or revoked")
        principal = found
    elif request.method in ("GET", "HEAD"):
        cookie = request.cookies.get(COOKIE)
        if cookie:
            principal = tokens.verify(cookie) or ANONYMOUS
    request.state.principal = principal
    return principal


async def principal_of(request: Request) -> Principal:
    """:func:`current_principal` as a dependency run on the event loop: it reads no more
    than the token file's status (and the file when it changed), and a synchronous
    dependency would cost every request a trip through the thread pool."""
    return current_principal(request)


def own_subject(principal: Principal, code: str | None) -> None:
    """Nothing for any role but ``subject``; for a subject token, a 403
    ``not-own-subject`` unless ``code`` is the code it is bound to."""
    if principal.role is not Role.SUBJECT:
        return
    if code is None or code.strip().upper() != principal.subject:
        raise ProblemError(
            403,
            Reason.NOT_OWN_SUBJECT,
            f"this subject token sees and files only about {principal.subject}",
        )


def _admitted_roles(endpoint: str) -> frozenset[Role]:
    return ENDPOINT_ROLES[endpoint] | ({Role.SUBJECT} if endpoint in SUBJECT_OWN else frozenset())


def admit(endpoint: str, principal: Principal, code: str | None = None) -> Principal:
    """``principal`` if its role may use ``endpoint`` (see ENDPOINT_ROLES), a subject
    token only about its own ``code`` where ``endpoint`` is one of :data:`SUBJECT_OWN`
    (``submit`` checks the events' sources instead); else 401 ``unauthenticated`` for
    the public (``WWW-Authenticate: Bearer``) or 403 ``role-not-allowed``."""
    allowed = _admitted_roles(endpoint)
    if principal.role in allowed:
        if endpoint != "submit":
            own_subject(principal, code)
        return principal
    names = ", ".join(sorted(r.value for r in allowed))
    if principal.anonymous:
        raise _unauthenticated(f"this endpoint needs a bearer token of a role: {names}")
    raise ProblemError(
        403,
        Reason.ROLE_NOT_ALLOWED,
        f"the role {principal.role.value} may not use this endpoint; allowed: {names}",
    )


def require(endpoint: str) -> Callable[..., Awaitable[Principal]]:
    """The dependency that admits the roles of ``endpoint`` (:func:`admit`, with the
    path's ``{code}``); it declares the bearer scheme in the OpenAPI document unless
    the endpoint is open to everyone."""
    if _admitted_roles(endpoint) == EVERYONE:
        # Public endpoints declare no security requirement (a token is optional).
        async def public(principal: Annotated[Principal, Depends(principal_of)]) -> Principal:
            return principal

        return public

    async def dependency(
        request: Request,
        principal: Annotated[Principal, Depends(principal_of)],
        _bearer: Annotated[object, Depends(bearer_scheme)] = None,
    ) -> Principal:
        return admit(endpoint, principal, request.path_params.get("code"))

    return dependency
