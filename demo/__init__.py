"""A deterministic, realistic demo data set: the credit records of ~1,200 market subjects.

:func:`generate` returns CloudEvents 1.0 structured-JSON dicts (DESIGN.md, "The wire
format") as agencies would submit them, each with the moment the demo should record
it. The module is pure: it reads no clock, writes nothing and uses no global random
state; everything derives from ``seed``. ``ledger demo`` feeds the result to the
ledger in ``recorded_us`` order.

What the data set looks like (DOMAIN.md is the vocabulary and the rules):

* Subjects: unified social credit codes (GB 32100) from eleven regions (GB/T 2260)
  and eleven registration authority / category prefixes (91 enterprises, 92
  individual businesses, 93 farmers' cooperatives, 11/12 organs and public
  institutions, 51/52/53 social organisations, N2 rural collective economic
  organisations, A1, Y1), new-style (``MA…``) and old-style (8 digits) organisation
  codes, every code completed by :func:`events.codes.complete_subject_code`.
* Lives: about 60 % clean (commitments made and fulfilled, registrations,
  evaluations, maybe a minor penalty), 30 % with findings (penalties, violation
  records, breached commitments, with rectification, interviews, objections,
  corrections, repair), 10 % heavy (serious findings, list proposal → designation,
  joint measures, bans, responsible persons, removal by expiry, repair or revocation).
* Agencies (``source``): ``samr/``, ``tax/``, ``mee/``, ``court/``, ``mohrss/``,
  ``emergency/``, ``ndrc/`` and ``credit-platform/`` followed by the subject's region.
* Time: decisions on Chinese working days (the rule services' working calendar), office hours, from 2023-05-01 to :data:`DEMO_NOW`; each event
  is recorded hours to a few days after its ``time``, a few weeks later when reported
  late, and some corrections arrive months after the record they correct.

Guarantees of :func:`generate` (the tests check them):

* the same ``(subjects, seed)`` gives identical output; ``subjects`` subjects;
* every event passes ``events.envelope.parse_submission`` (valid codes, types,
  data; money as decimal strings; no JSON number with a fraction anywhere);
* ids are unique across the data set (``<agency>-<region>-<year>-<n:06d>``);
* ``time`` ≤ ``recorded_us`` ≤ :data:`DEMO_NOW`, and the list is sorted by
  ``recorded_us`` (non-decreasing);
* every reference field names an earlier event (earlier ``time`` and strictly earlier
  ``recorded_us``) of the same subject, of a type the vocabulary allows; nothing refers
  to a revoked record or to a withdrawn penalty afterwards;
* interviews and rectification orders come from the agency of their finding;
* repair is requested only after the minimum disclosure period the rule book gives
  (``commands.rulesets.period_for``: the rule set in force on the finding's day, its
  family, every severity it carried, its sector) plus a margin of at least 21 days,
  after a repair commitment and after the completion of any rectification ordered;
  findings the rule set does not publish (minor ones under Order 36) are never
  repaired;
* objections are decided within the working days of the subject's region's objection
  profile, objections to a list proposal are filed within the procedures' notice
  window and the designation follows after it, listing terms stay within the
  criteria's ``max_months`` and bans are permanent only on the criteria's bases;
* each subject's first event (in recorded order) carries ``data.subject_name``, the
  name :func:`names` gives for its code;
* every spring (2024–2026) each region's market regulator has its graded random spot
  check (双随机) drawn: the region's businesses by supervision tier (from their
  findings of the two years before), drawn with
  :func:`commands.workflows.inspections.draw` at the procedures' Henan 2021 ratios, one
  ``credit.inspection.selected`` per drawn subject, issued by the ledger's system
  source (DOMAIN.md: spot-check draws are the system's) with ``data.agency`` naming
  the regulator — so the demo is loaded with ``system=True``;
* every event's ``source`` may record it (DOMAIN.md "Who may record what",
  :mod:`commands.authority`): repair of publication is decided by the credit
  platform, the repair of a listing by its 认定单位.

Every period, deadline and ratio a story needs is asked of the rule services passed to
:func:`generate` (``commands.services.RuleServices``), never copied here: with other
rules, the demo follows them.

Modules: :mod:`demo.days` (the clock, working days), :mod:`demo.identities` (regions,
names, codes, persons), :mod:`demo.templates` (what agencies write), :mod:`demo.story`
(the story base), :mod:`demo.findings`, :mod:`demo.repair`, :mod:`demo.commitments`,
:mod:`demo.listings` (the story families), :mod:`demo.lives` (a whole life),
:mod:`demo.spotchecks`, :mod:`demo.positive` (licences and incentives) and
:mod:`demo.generator` (:func:`generate`).
"""

from __future__ import annotations

from demo.days import DEMO_NOW, DEMO_START
from demo.generator import DemoEvent, agencies, example_subject, generate
from demo.identities import id_number_check, names

__all__ = [
    "DEMO_NOW",
    "DEMO_START",
    "DemoEvent",
    "agencies",
    "example_subject",
    "generate",
    "id_number_check",
    "names",
]
