"""The credit report (信用报告, issue 19): what was public about a subject, signed and
verifiable offline (AUDIT-FORMAT.md ``credit-report/1``).

Content (:func:`report_content`), Chinese first:

* ``subject``: the code, the name and the registration facts the code itself carries
  (registration authority, entity category, region);
* ``standing``: what is public of the standing only (DOMAIN.md Clarifications "Public
  output": published evaluations per scheme, current list memberships; never the internal
  score or supervision tier), each fact carrying ``derived_from`` records;
* ``sections``: one per kind of public record (:data:`SECTIONS`), each item with its
  record's ``id`` and ``source``, agency and agency name, document number, dates, disclosure
  period and the rule set it follows. A corrected record (已更正) shows its corrected values
  and cites the correction (``id``/``source`` of the ``credit.record.corrected`` record, the
  corrected record's id in ``record``): the corrected record stays redacted in the bundle,
  since its old values are never public (DOMAIN.md "What the public sees").

What is public comes from ONE place, :mod:`projections.public` (through
:meth:`projections.reads.Reads.disclosure`): a report for now is read as the public reads
(``PUBLIC``: only what is published now); a report for a past date (the CLI, or the roles
that see everything) is the disclosure of that date as known then, of which only the items
published then are kept. Commitments and evaluations, which the disclosure does not carry,
come from the subject's history (as known at ``known_at``); a revoked one is left out.

Issuing (:class:`ReportIssuer`): a checkpoint of the ledger as it is (issued if the ledger
grew since the last), ``known_at`` = that checkpoint's ``issued_us`` for a report of now (no
record existed after its records then), the subject's audit bundle at it with every record
the report does not cite redacted (:func:`ledger.audit.reports.redact_bundle`), the whole
signed with the checkpoint key and entered in the register of issued reports.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from commands.rulesets import NoRuleSet
from commands.services import RuleServices
from events.instants import CST
from events.labels import shown
from ledger.audit.bundle import build_bundle
from ledger.audit.checkpoints import CheckpointError, issue_checkpoint, latest_checkpoint
from ledger.audit.keys import public_key_b64
from ledger.audit.reports import (
    REPORT_FORMAT,
    IssuedReport,
    issued_report,
    new_report_id,
    record_issued,
    redact_bundle,
    report_hash,
    sign_report,
)
from ledger.store.recorder import LedgerSQL
from projections.disclosure_plans import NOTICE_KIND
from projections.public import EVERYTHING, PUBLIC
from projections.reads import Reads

__all__ = [
    "SECTIONS",
    "ReportIssuer",
    "ReportRefused",
    "ReportUnavailable",
    "agency_name",
    "cited",
    "report_content",
    "utc_text",
]

SECTIONS: tuple[tuple[str, str, str], ...] = (
    ("licenses", "行政许可", "Administrative licences"),
    ("penalties", "行政处罚", "Administrative penalties"),
    ("violations", "失信行为", "Records of dishonest conduct"),
    ("lists", "失信名单", "Dishonesty lists (serious dishonesty, focus)"),
    ("measures", "惩戒措施和市场禁入", "Disciplinary measures and market bans"),
    ("commitments", "信用承诺及履约", "Credit commitments and their performance"),
    ("incentives", "守信激励", "Incentives for trustworthiness"),
    ("evaluations", "综合评价", "Credit evaluations"),
    ("registrations", "自愿注册信息", "Voluntarily registered information"),
)
"""(key, Chinese title, English title) of every section, in the report's order."""

_SECTION_OF_KIND = {
    "license": "licenses",
    "penalty": "penalties",
    NOTICE_KIND: "penalties",
    "violation": "violations",
    "list": "lists",
    "measure": "measures",
    "ban": "measures",
    "incentive": "incentives",
    "registration": "registrations",
}
"""Disclosure item kinds shown in a report; others (``person``: personal data) are not."""

_DROPPED = frozenset(
    {"event_id", "published", "reason", "publish_by_note", "late", "periods", "kind", "type"}
)
"""Keys of a disclosure item that a report does not repeat in ``details``."""


def agency_name(source: str, rules: RuleServices | None) -> str:
    """The Chinese name of the agency ``source`` (``KIND/REGION``), for people: from the
    agency registry of ``rules`` (``commands/agencies.json``: 深圳市市场监管); the source
    itself when the registry cannot name it (or there are no rule services)."""
    return rules.agencies.title(source) if rules is not None else source


def _words(kind: str, code: Any) -> str:
    """The Chinese label of ``code`` (:func:`events.labels.shown`: the code itself
    when the ledger has no words for it; empty for none)."""
    return "" if code is None or code == "" else shown(kind, str(code))


def utc_text(us: int) -> str:
    """An instant as RFC 3339 UTC with microseconds and ``Z`` (exact: a verifier compares
    it with records' ``recorded_us``)."""
    moment = datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _cst_day(us: int) -> date:
    return datetime.fromtimestamp(us / 1_000_000, UTC).astimezone(CST).date()


# -- content ----------------------------------------------------------------------------


def _item_title(item: Mapping[str, Any], rules: RuleServices | None = None) -> str:
    kind = item.get("kind")
    if kind == "penalty":
        kinds = "、".join(_words("penalty-kind", k) for k in item.get("kinds") or [])
        amount = f"，罚没金额 {item['amount']} 元" if item.get("amount") else ""
        return f"{_words('severity', item.get('severity'))}行政处罚：{kinds}{amount}"
    if kind == NOTICE_KIND:
        reason = item.get("withdrawal_reason") or ""
        return f"行政处罚决定已撤回（撤回公示说明）{reason}"
    if kind == "violation":
        severity = _words("severity", item.get("severity"))
        return f"{severity}失信行为：{_words('behaviour', item.get('behaviour'))}"
    if kind == "list":
        end = f"，计划移出日期 {item['planned_end']}" if item.get("planned_end") else ""
        return f"列入{_words('list', item.get('list'))}{end}"
    if kind == "measure":
        until = f"，至 {item['measure_until']}" if item.get("measure_until") else ""
        measure = item.get("measure")
        name = rules.label("measure", str(measure)) if rules is not None and measure else measure
        return f"惩戒措施：{name or ''}{until}"
    if kind == "ban":
        until = "终身禁入" if item.get("permanent") else f"至 {item.get('ban_until')}"
        return f"市场和行业禁入（{_words('sector', item.get('sector'))}），{until}"
    if kind == "registration":
        return f"{item.get('category', '')}：{item.get('description', '')}"
    if kind == "license":
        last = item.get("license_valid_until")
        valid = f"，有效期至 {last}" if last else "，长期有效"
        return f"{item.get('license_type', '')}：{item.get('matter', '')}{valid}"
    if kind == "incentive":
        return f"守信激励措施：{item.get('measure_name') or item.get('measure', '')}"
    return str(item.get("reason", ""))


def _rule_set_of(reads: Reads, item: Mapping[str, Any]) -> str | None:
    found = item.get("rule_set")
    if isinstance(found, str):
        return found
    day = item.get("date") or item.get("from")
    if not isinstance(day, str):
        return None
    try:
        return reads.rules.rulebook.in_force(date.fromisoformat(day)).id
    except (NoRuleSet, ValueError):
        return None


def _section_item(
    reads: Reads, item: Mapping[str, Any], source: str, sources: Mapping[str, list[str]]
) -> dict[str, Any]:
    agency = str(item.get("agency") or source)
    out: dict[str, Any] = {
        "id": str(item["event_id"]),
        "source": source,
        "type": item.get("type"),
        "kind": item.get("kind"),
        "title": _item_title(item, reads.rules),
        "agency": agency,
        "agency_name": agency_name(agency, reads.rules),
        "document": item.get("document"),
        "basis": item.get("basis"),
        "date": item.get("date") or item.get("from"),
        "from": item.get("from"),
        "until": item.get("until"),
        "publish_by": item.get("publish_by"),
        "rule_set": _rule_set_of(reads, item),
        "details": {k: v for k, v in item.items() if k not in _DROPPED and k not in _TOP},
    }
    changes = [b for b in item.get("changed_by") or () if isinstance(b, str) and sources.get(b)]
    if changes:  # a licence's changes: the values shown are theirs
        out["derived_from"] = [{"id": b, "source": sources[b][0]} for b in changes]
    corrected = item.get("corrected")
    if corrected:
        out["corrected"] = corrected
        by = corrected.get("by") if isinstance(corrected, Mapping) else None
        if isinstance(by, str) and sources.get(by):
            # The item cites the correction (the record of the values shown), not the
            # corrected record, whose old values the public never sees (module docstring).
            out["record"] = out["id"]
            out["id"], out["source"] = by, sources[by][0]
    return out


_TOP = frozenset(
    {"agency", "document", "basis", "date", "from", "until", "publish_by", "rule_set", "corrected"}
)


def _scheme(name: str) -> tuple[str, str | None]:
    """``public-credit-comprehensive-evaluation-2024`` → (scheme, "2024")."""
    found = re.fullmatch(r"(.+?)-(\d{4})", name)
    return (found.group(1), found.group(2)) if found else (name, None)


def _evaluations(
    history: list[dict[str, Any]], as_of_day: date, rules: RuleServices | None = None
) -> list[dict[str, Any]]:
    """The latest valid evaluation of each scheme (a newer grade replaces only its own
    scheme's; a revoked one is left out)."""
    revoked = _revoked(history)
    latest: dict[str, dict[str, Any]] = {}
    for record in history:
        if record["type"] != "credit.evaluation.published" or record["id"] in revoked:
            continue
        data = record["data"]
        scheme, year = _scheme(str(data.get("scheme", "")))
        valid_until = data.get("valid_until")
        if isinstance(valid_until, str) and valid_until < as_of_day.isoformat():
            latest.pop(scheme, None)
            continue
        latest[scheme] = {
            "id": record["id"],
            "source": record["source"],
            "type": record["type"],
            "kind": "evaluation",
            "scheme": scheme,
            "period": data.get("period") or year,
            "grade": data.get("grade"),
            "valid_until": valid_until,
            "title": f"{_words('scheme', scheme)}{_period(data.get('period') or year)}："
            f"{data.get('grade')}",
            "agency": record["source"],
            "agency_name": agency_name(record["source"], rules),
            "document": data.get("document"),
            "basis": data.get("basis"),
            "date": _cst_day_of(record["time"]),
            "from": _cst_day_of(record["time"]),
            "until": valid_until,
        }
    return [latest[k] for k in sorted(latest)]


def _period(period: Any) -> str:
    return f"（{period}）" if period else ""


def _cst_day_of(rfc3339: str) -> str:
    moment = datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    return moment.astimezone(CST).date().isoformat()


def _revoked(history: list[dict[str, Any]]) -> set[str]:
    return {
        str(r["data"].get("target"))
        for r in history
        if r["type"] == "credit.record.revoked" and isinstance(r.get("data"), dict)
    }


_COMMITMENT_ENDS = {
    "credit.commitment.fulfilled": "fulfilled",
    "credit.commitment.breached": "breached",
    "credit.commitment.withdrawn": "withdrawn",
}
"""The types that end a commitment and the status (``commitment-status``) each gives."""


def _commitments(
    history: list[dict[str, Any]], rules: RuleServices | None = None
) -> list[dict[str, Any]]:
    """Every commitment made (not revoked) and how it ended, if it did; repair commitments
    (信用修复型) are left out: they exist because of a repair and name the repaired record,
    whose existence public output must not hint at (DOMAIN.md "What the public sees")."""
    revoked = _revoked(history)
    ends: dict[str, dict[str, Any]] = {}
    for record in history:
        if record["type"] in _COMMITMENT_ENDS and record["id"] not in revoked:
            ref = record["data"].get("commitment")
            if isinstance(ref, str):
                ends.setdefault(ref, record)
    out: list[dict[str, Any]] = []
    for record in history:
        if record["type"] != "credit.commitment.made" or record["id"] in revoked:
            continue
        data = record["data"]
        if data.get("commitment_type") == "repair":
            continue  # it names the repaired record, which must not be hinted at
        end = ends.get(record["id"])
        status = _words("commitment-status", _COMMITMENT_ENDS[end["type"]] if end else "open")
        kind = _words("commitment-type", data.get("commitment_type"))
        item: dict[str, Any] = {
            "id": record["id"],
            "source": record["source"],
            "type": record["type"],
            "kind": "commitment",
            "title": f"{kind}信用承诺：{data.get('matter', '')}（{status}）",
            "status": status,
            "agency": record["source"],
            "agency_name": agency_name(record["source"], rules),
            "document": data.get("document"),
            "basis": data.get("basis"),
            "date": _cst_day_of(record["time"]),
            "from": _cst_day_of(record["time"]),
            "until": data.get("due"),
        }
        if end is not None:
            item["derived_from"] = [{"id": end["id"], "source": end["source"]}]
            item["ended"] = _cst_day_of(end["time"])
        out.append(item)
    return out


def _subject_facts(code: str, name: str | None) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "registration_authority": _words("registration-authority", code[0]),
        "entity_category": code[1],
        "region": code[2:8],
    }


def report_content(
    reads: Reads, subject: str, as_of_us: int, known_at_us: int, *, now: bool
) -> dict[str, Any]:
    """The report's ``content`` (module docstring) and the subject's name under
    ``subject.name``. ``now``: a report of now, read as the public reads; otherwise a
    report of the past date ``as_of_us`` (what was published then, as known then).

    Raises:
        projections.live.UnknownSubject: the ledger knew no record of the subject then.
    """
    audience = PUBLIC if now else EVERYTHING
    body = reads.disclosure(subject, as_of_us, known_at_us, audience=audience)
    history = reads.history(subject, as_of_us, known_at_us).to_json()
    sources: dict[str, list[str]] = {}
    for record in history:
        sources.setdefault(record["id"], []).append(record["source"])
    sections: dict[str, list[dict[str, Any]]] = {key: [] for key, _, _ in SECTIONS}
    for item in body.get("items", ()):
        key = _SECTION_OF_KIND.get(str(item.get("kind")))
        if key is None or not item.get("published"):
            continue
        found = sources.get(str(item["event_id"]), [])
        if not found:
            continue  # not a record the ledger knew then: never cite what cannot be shown
        source = item.get("agency") if item.get("agency") in found else found[0]
        sections[key].append(_section_item(reads, item, str(source), sources))
    as_of_day = _cst_day(as_of_us)
    evaluations = _evaluations(history, as_of_day, reads.rules)
    sections["evaluations"] = evaluations
    sections["commitments"] = _commitments(history, reads.rules)
    for items in sections.values():
        items.sort(key=lambda i: (str(i.get("date") or ""), i["id"]))
    lists = [
        {
            "list": i["details"].get("list"),
            "title": _words("list", i["details"].get("list")),
            "since": i["from"],
            "derived_from": [{"id": i["id"], "source": i["source"]}],
        }
        for i in sections["lists"]
    ]
    member = reads.standing(subject, as_of_us, known_at_us).get("trustworthy")
    trustworthy: dict[str, Any] = {"member": member is not None}
    if member is not None:
        trustworthy.update(
            {k: member[k] for k in ("scheme", "grades", "since", "valid_until", "derived_from")}
        )
    standing = {
        "trustworthy": trustworthy,
        "evaluations": [
            {k: e[k] for k in ("scheme", "period", "grade", "valid_until")}
            | {"derived_from": [{"id": e["id"], "source": e["source"]}]}
            for e in evaluations
        ],
        "lists": lists,
        "counts": {key: len(sections[key]) for key, _, _ in SECTIONS},
        "summary": _summary(sections, lists, evaluations, as_of_day, member),
    }
    dates = [str(i["date"]) for items in sections.values() for i in items if i.get("date")]
    return {
        "subject": _subject_facts(subject, body.get("subject_name")),
        "period": {"from": min(dates) if dates else None, "to": as_of_day.isoformat()},
        "standing": standing,
        "sections": [
            {"key": key, "title": zh, "title_en": en, "items": sections[key]}
            for key, zh, en in SECTIONS
        ],
    }


def _summary(
    sections: Mapping[str, list[dict[str, Any]]],
    lists: list[dict[str, Any]],
    evaluations: list[dict[str, Any]],
    as_of_day: date,
    member: Mapping[str, Any] | None,
) -> list[str]:
    """The standing explained, in Chinese sentences."""
    lines = [f"截至 {as_of_day.isoformat()}，本报告载明该主体在本账本中公示的全部信用信息。"]
    if member is not None:
        lines.append(
            f"该主体列入守信激励对象名单（{_words('scheme', member['scheme'])}：{'、'.join(member['grades'])}，"
            f"自 {member['since']} 起，有效期至 {member['valid_until'] or '长期'}）。"
        )
    negative = sum(len(sections[k]) for k in ("penalties", "violations", "lists", "measures"))
    if negative:
        lines.append(
            f"公示中的行政处罚 {len(sections['penalties'])} 条、失信行为 "
            f"{len(sections['violations'])} 条、失信名单 {len(sections['lists'])} 条、"
            f"惩戒措施和市场禁入 {len(sections['measures'])} 条。"
        )
    else:
        lines.append("无公示中的行政处罚、失信行为、失信名单、惩戒措施或市场禁入信息。")
    for entry in lists:
        lines.append(f"自 {entry['since']} 起列入{entry['title']}。")
    for e in evaluations:
        lines.append(f"{e['title']}，有效期至 {e['valid_until'] or '长期'}。")
    kept = sum(1 for c in sections["commitments"] if c.get("status") == "已履约")
    if sections["commitments"]:
        lines.append(f"作出信用承诺 {len(sections['commitments'])} 项，已履约 {kept} 项。")
    return lines


def cited(value: Any) -> Iterator[tuple[str, str]]:
    """Every ``(id, source)`` a report's ``content`` cites: each object with both keys,
    and each entry of a ``derived_from`` list (AUDIT-FORMAT.md: a verifier checks them all)."""
    if isinstance(value, dict):
        if isinstance(value.get("id"), str) and isinstance(value.get("source"), str):
            yield value["id"], value["source"]
        for item in value.values():
            yield from cited(item)
    elif isinstance(value, list):
        for item in value:
            yield from cited(item)


# -- issuing ------------------------------------------------------------------------------


VERIFY_NOTE = (
    "核验方法：本报告为 credit-report/1 格式的签名 JSON（PDF 版以附件 credit-report.json 附带）。"
    "使用账本公钥运行 tools/verify_report.py 可离线核验签名、Merkle 包含证明与主体链头证明；"
    "访问核验网址可确认本报告由本账本出具。"
)


class ReportRefused(RuntimeError):
    """A report cannot be issued as asked; the message says why."""


class ReportUnavailable(RuntimeError):
    """No report can be issued now: the ledger cannot sign a checkpoint (e.g. its store is
    not consistent with the checkpoint log); the message says why."""


@dataclass
class ReportIssuer:
    """Issues signed credit reports from one ledger (module docstring).

    ``public_url`` is the base of the verification link printed on reports
    (``LEDGER_PUBLIC_URL``)."""

    recorder: LedgerSQL
    reads: Reads
    signing_key: Any
    origin: str
    clock: Callable[[], int]
    public_url: str = "http://127.0.0.1:8000"
    checkpoint_log: Any | None = None
    """``ledger.audit.checkpoint_log.CheckpointLog``: where the checkpoints a report
    needs are published, as every checkpoint is (None: none kept)."""

    def issued(self, report_id: str) -> IssuedReport | None:
        """The register's entry of ``report_id`` (None: not issued by this ledger)."""
        return issued_report(self.recorder, report_id)

    def _checkpoint(self, now: int) -> Any:
        """A checkpoint of the ledger as it is (issued if it grew), published to the log."""
        from ledger.audit.checkpoint_log import CheckpointPublishError

        try:
            return issue_checkpoint(
                self.recorder, self.signing_key, self.origin, now, log=self.checkpoint_log
            )
        except CheckpointPublishError:
            found = latest_checkpoint(self.recorder)  # issued and logged; only Kafka failed
            if found is None:
                raise
            return found
        except CheckpointError as e:
            raise ReportUnavailable(f"no checkpoint can be signed for the report: {e}") from e

    def verify_url(self, report_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/v1/reports/{report_id}"

    def issue(self, subject: str, as_of_us: int | None = None) -> dict[str, Any]:
        """A signed ``credit-report/1`` of ``subject`` for now (``as_of_us`` None: what the
        public sees) or for the past instant ``as_of_us`` (for the CLI and the roles that
        see everything), entered in the register.

        Raises:
            projections.live.UnknownSubject: no record of the subject then.
            ReportRefused: ``as_of_us`` lies in the future, or the ledger kept changing
                under the report.
            ReportUnavailable: no checkpoint can be signed now.
        """
        for _ in range(3):
            now = self.clock()
            if as_of_us is not None and as_of_us > now:
                raise ReportRefused("a report cannot be dated in the future")
            checkpoint = self._checkpoint(now)
            as_of = now if as_of_us is None else as_of_us
            known_at = min(as_of, checkpoint.issued_us, now)
            content = report_content(self.reads, subject, as_of, known_at, now=as_of_us is None)
            bundle = build_bundle(
                self.recorder, subject, checkpoint, public_key_b64(self.signing_key)
            )
            shown = set(cited(content))
            recorded = {
                (e["record"]["id"], e["record"]["source"]): e["record"]["recorded_us"]
                for e in bundle["records"]
            }
            if all(recorded.get(key, known_at + 1) <= known_at for key in shown):
                break
        else:
            raise ReportRefused("the ledger kept changing while the report was made; try again")
        report_id = new_report_id(now)
        content["verification"] = {"url": self.verify_url(report_id), "note": VERIFY_NOTE}
        content["issuer"] = self.origin
        report = sign_report(
            self.signing_key,
            {
                "format": REPORT_FORMAT,
                "report_id": report_id,
                "subject": subject,
                "name": content["subject"]["name"],
                "as_of": utc_text(as_of),
                "known_at": utc_text(known_at),
                "issued_us": now,
                "content": content,
                "bundle": redact_bundle(bundle, shown),
            },
        )
        record_issued(
            self.recorder,
            IssuedReport(
                report_id, subject, now, report["as_of"], report["known_at"], report_hash(report)
            ),
        )
        return report
