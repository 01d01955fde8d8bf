"""List and ban-register membership as the ``lists`` view stores it.

:func:`membership_rows` turns a subject's timeline into the membership periods its
designations (``credit.list.designated``) and bans (``credit.ban.imposed``) imply,
every known end applied, one :class:`~ledger.store.views.ListRow` per period. The
runner's fold (``projections.folds``) diffs successive results into versioned list rows.
"""

from __future__ import annotations

from ledger.store.views import ListRow, dumps
from projections.disclosure_plans import corrected_mark
from projections.lifecycles import ban_lifecycle, day_text, designation_lifecycle, list_name
from projections.timeline import Timeline

__all__ = ["membership_rows"]


def membership_rows(timeline: Timeline) -> dict[tuple[int, int], ListRow]:
    """The list and ban-register membership periods a timeline implies (every
    known end applied), keyed by (seq, valid_from_us)."""
    out: dict[tuple[int, int], ListRow] = {}
    if not timeline.of_type("credit.list.designated") and not timeline.of_type(
        "credit.ban.imposed"
    ):
        return out
    facts = timeline.memo.get(("membership",))
    if facts is not None:
        return dict(facts)
    for entry in timeline.of_type("credit.list.designated"):
        name = list_name(entry)
        if name is None:
            continue
        proposal = entry.refs.get("proposal")
        body_base = {
            "list": name,
            "subject": timeline.subject,
            "subject_name": timeline.subject_name,
            "event_id": entry.id,
            "planned_end": proposal.data.get("planned_end") if proposal is not None else None,
            "agency": entry.source,
            "document": entry.data.get("document"),
            "basis": entry.data.get("basis"),
            **corrected_mark(entry),
        }
        for iv in designation_lifecycle(entry).final():
            body = dumps({**body_base, "since": day_text(iv.start_us)})
            out[(entry.seq, iv.start_us)] = ListRow(
                name, timeline.subject, entry.id, entry.seq, iv.start_us, iv.end_us, body
            )
    for entry in timeline.of_type("credit.ban.imposed"):
        body_base = {
            "list": "bans",
            "subject": timeline.subject,
            "subject_name": timeline.subject_name,
            "event_id": entry.id,
            "sector": entry.data.get("sector"),
            "ban_until": entry.data.get("until"),
            "permanent": entry.data.get("until") is None,
            "agency": entry.source,
            "document": entry.data.get("document"),
            "basis": entry.data.get("basis"),
            **corrected_mark(entry),
        }
        for iv in ban_lifecycle(entry).final():
            body = dumps({**body_base, "since": day_text(iv.start_us)})
            out[(entry.seq, iv.start_us)] = ListRow(
                "bans", timeline.subject, entry.id, entry.seq, iv.start_us, iv.end_us, body
            )
    timeline.memo[("membership",)] = tuple(out.items())
    return out
