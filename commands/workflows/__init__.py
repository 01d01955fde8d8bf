"""The workflow rules of the seeds' lifecycles (DOMAIN.md "Lifecycles").

Importing this package registers every rule in ``commands.decide.RULES`` (and
the derived events in ``DERIVERS``); ``commands.decide`` imports it. One module
per lifecycle:

* :mod:`.corrections` — a correction is judged as the corrected record would be.
* :mod:`.objections` — 异议: one pending per record, resolved once, carried
  corrections, who may correct; objection deadlines.
* :mod:`.repair` — 信用修复: minimum period, obligations, request → decision → revocation.
* :mod:`.commitments` — 信用承诺 and 容缺受理: open commitments, overdue deadlines.
* :mod:`.findings` — rectification and withdrawal; rectification status.
* :mod:`.lists` — designation after notice, removal, bans and measures lifted; expiry.
* :mod:`.persons` — what extends to responsible persons (§十二).
* :mod:`.inspections` — 双随机 tiers and the reproducible draw.
* :mod:`.criteria` — the criteria of the serious acts: minor, listing grounds and
  bounds, permanent bans, the measures list, repair methods, a breached repair
  commitment revoking its repairs.
* :mod:`.incentives` — licences (行政许可) and incentive measures (守信激励).

Every lifecycle step names the step it follows through a ``references`` field
of its type (a resolution its objection, an approval its request, a removal its
designation …), so the structural reference check of :mod:`commands.decide`
already refuses a step dated before its predecessor (``reference-dated-later``);
the correction or revocation an upheld resolution carries is dated with the
resolution, hence no earlier than the objection's target. "Is the step it
follows still open (not revoked, not already closed)?" is one shared check,
:func:`.common.still_open`.
"""

from commands.workflows import (
    commitments,
    corrections,
    criteria,
    findings,
    incentives,
    inspections,
    lists,
    objections,
    persons,
    repair,
)

__all__ = [
    "commitments",
    "corrections",
    "criteria",
    "findings",
    "incentives",
    "inspections",
    "lists",
    "objections",
    "persons",
    "repair",
]
