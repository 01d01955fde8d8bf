"""The read views for people: standing, disclosure and list members as text.

Each function takes the ``--json`` shape (so whichever mode served a read, it
reads the same) and returns lines with Chinese and English headings; codes and
reason lines are in ``lang`` (``zh``, the default, or ``en``: the CLI's ``--lang``),
named by :mod:`events.labels`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from events.labels import shown

__all__ = ["LANGS", "disclosure_text", "list_text", "standing_text"]

LANGS = ("zh", "en")
"""The languages of the text views."""


def _clock(body: dict[str, Any]) -> str:
    as_of = (body.get("as_of") or "")[:16].replace("T", " ")
    known = body.get("known_at")
    known_text = (known or "")[:16].replace("T", " ") if known else "now (everything recorded)"
    return f"as of {as_of} CST · known at {known_text}"


def standing_text(s: dict[str, Any], lang: str = "zh") -> str:
    """The standing for a person."""
    name = f" {s['subject_name']}" if s.get("subject_name") else ""
    ratio = s.get("spot_check_ratio")
    percent = f"{(Decimal(ratio) * 100).normalize():f} %" if ratio is not None else "—"
    lines = [
        f"{s['subject']}{name}",
        f"信用等级 grade {s['grade']} · 分数 score {s['score']} "
        f"({s['scheme']}, start {s['start']}) · 监管层级 tier {s.get('tier') or '—'}, "
        f"抽查比例 spot checks {percent}",
        _clock(s),
        "",
        "评分依据 explanation:",
    ]
    if not s["explanation"]:
        lines.append("  (no records that count)")
    for c in s["explanation"]:
        points = f"{c['points']:+d}" if c["points"] else "0"
        reason = c.get("reason_zh") or c["reason"] if lang == "zh" else c["reason"]
        lines.append(f"  {points:>4}  {c['event_id']}  {reason}")
    lines.append("")
    lines.append("惩戒措施 measures in force:" + ("" if s["measures"] else " none"))
    for m in s["measures"]:
        until = m.get("until") or "open-ended"
        suspended = f"  [suspended by objection {m['suspended_by']}]" if m.get("suspended") else ""
        lines.append(
            f"  {m['event_id']}  {m['measure']} on {m['finding']}, since {m['since']}, "
            f"last day {until}{suspended}"
        )
    lines.append("名单 lists:" + ("" if s.get("list_designations") else " none"))
    for d in s.get("list_designations", []):
        label = shown("list", d["list"], lang)
        late = " (past its planned end)" if d.get("past_planned_end") else ""
        lines.append(
            f"  {d['list']} {label}: {d['event_id']}, since {d['since']}, "
            f"planned end {d.get('planned_end') or '—'}{late}"
        )
    lines.append("市场禁入 bans in force:" + ("" if s["bans"] else " none"))
    for b in s["bans"]:
        until = "permanent" if b.get("permanent") else f"last day {b['until']}"
        lines.append(f"  {b['event_id']}  {b['sector']}, since {b['since']}, {until}")
    lines.append("异议 pending objections:" + ("" if s["pending_objections"] else " none"))
    for o in s["pending_objections"]:
        due = o.get("decide_by") or f"unknown ({o.get('deadline_note')})"
        overdue = "  OVERDUE" if o.get("overdue") else ""
        lines.append(
            f"  {o['event_id']} on {o['target']}, filed {o['filed']}, decide by {due} "
            f"({o['region']}){overdue}"
        )
    if s["suspended"]:
        lines.append("  measures suspended for: " + ", ".join(s["suspended"]))
    lines.append("承诺 open commitments:" + ("" if s["open_commitments"] else " none"))
    for c in s["open_commitments"]:
        due = f", due {c['due']}" if c.get("due") else ""
        overdue = "  OVERDUE" if c.get("overdue") else ""
        lines.append(f"  {c['event_id']}  {c['commitment_type']}: {c['matter']}{due}{overdue}")
    lines.append("整改 open rectifications:" + ("" if s["open_rectifications"] else " none"))
    for r in s["open_rectifications"]:
        overdue = "  OVERDUE" if r.get("overdue") else ""
        lines.append(f"  {r['event_id']} for {r['finding']}, deadline {r['deadline']}{overdue}")
    evaluations = s.get("evaluations") or ([s["evaluation"]] if s.get("evaluation") else [])
    lines.append("综合评价 evaluations:" + ("" if evaluations else " none"))
    for e in evaluations:
        valid = "valid" if e.get("valid") else "expired"
        period = f" {e['period']}" if e.get("period") else ""
        raised = "  raises the tier" if e.get("event_id") == s.get("tier_raised_by") else ""
        lines.append(
            f"  {e['scheme']}{period}: {e['grade']}, published {e['published']}, "
            f"until {e['valid_until']} — {valid}{raised}"
        )
    for note in s.get("notes", []):
        lines.append(f"note: {note}")
    return "\n".join(lines) + "\n"


def disclosure_text(d: dict[str, Any], lang: str = "zh") -> str:
    """The disclosure for a person: published items first; reasons in ``lang``."""
    name = f" {d['subject_name']}" if d.get("subject_name") else ""
    published = [i for i in d["items"] if i["published"]]
    other = [i for i in d["items"] if not i["published"]]
    lines = [f"{d['subject']}{name} — 信用信息公示 public disclosure", _clock(d), ""]
    lines.append(f"公示中 published ({len(published)}):")
    for item in published:
        lines.extend(_item_lines(item, lang))
    lines.append(f"未公示或已结束 not published or ended ({len(other)}):")
    for item in other:
        lines.extend(_item_lines(item, lang))
    return "\n".join(lines) + "\n"


def _item_lines(item: dict[str, Any], lang: str) -> list[str]:
    label = shown("record-kind", item["kind"], lang)
    span = ""
    if item["from"]:
        span = f"  {item['from']} → {item['until'] or '…'}"
    reason = item.get("reason_zh") or item["reason"] if lang == "zh" else item["reason"]
    out = [f"  {item['event_id']}  {label}{span}", f"      {reason}"]
    if item["kind"] == "person":
        out.append(f"      身份证号 identity number {item.get('id_number') or '(not shown)'}")
    if item.get("publish_by"):
        late = "LATE" if item["late"] else "on time"
        out.append(f"      publish by {item['publish_by']} ({late})")
    elif item.get("publish_by_note") and item["published"]:
        out.append(f"      publish by: {item['publish_by_note']}")
    return out


def list_text(body: dict[str, Any], lang: str = "zh") -> str:
    """A register's members for a person."""
    label = shown("list", body["list"], lang)
    lines = [
        f"{body['list']} {label} — {body['count']} member{'' if body['count'] == 1 else 's'}",
        _clock(body),
    ]
    if not body["complete"]:
        lines.append(f"(the views are {body['behind']} records behind the ledger)")
    for m in body["members"]:
        name = f" {m['subject_name']}" if m.get("subject_name") else ""
        if m["list"] == "bans":
            end = "permanent" if m.get("permanent") else f"last day {m.get('ban_until')}"
            what = f"{m.get('sector')}, {end}"
        elif m["list"] == "trustworthy":
            what = f"{m.get('basis')}, valid until {m.get('planned_end') or '—'}"
        else:
            what = f"planned end {m.get('planned_end') or '—'}"
        lines.append(
            f"  {m['subject']}{name}  since {m['since']}, {what}  "
            f"({m['agency']}, {m.get('document') or '—'}, {m['event_id']})"
        )
    return "\n".join(lines) + "\n"
