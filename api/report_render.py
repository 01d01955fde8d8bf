"""Rendering a credit report (``credit-report/1``) for people: HTML, and PDF typeset by
WeasyPrint over the same HTML with Debian's Noto CJK fonts (``fonts-noto-cjk``;
``tools/ensure-report-deps.sh`` installs them).

The PDF embeds the report's JSON as the attached file ``credit-report.json`` (the bytes a
verifier checks, ``canon(report)``), and prints the report id, the SHA-256 of
``canon(report)`` and a QR code (``segno``) of the verification URL
(``GET /v1/reports/{report_id}``). Nothing here decides content: the report is rendered as
issued (:mod:`projections.report`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape

from events.instants import CST
from ledger.audit.reports import report_hash
from ledger.chain import canonical

__all__ = ["ATTACHMENT_NAME", "PdfUnavailable", "render_html", "render_pdf"]

ATTACHMENT_NAME = "credit-report.json"
_TEMPLATES = Path(__file__).resolve().parent / "templates"
_env = Environment(loader=FileSystemLoader(_TEMPLATES), autoescape=select_autoescape(["html"]))


def _cst(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, UTC).astimezone(CST)


def _cst_of(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(CST)


def render_html(report: Mapping[str, Any]) -> str:
    """The report as one self-contained HTML page (Chinese first)."""
    content = report["content"]
    url = content.get("verification", {}).get("url", "")
    as_of = _cst_of(report["as_of"])
    return _env.get_template("report.html").render(
        r=report,
        c=content,
        url=url,
        qr=segno.make(url or report["report_id"], error="m").svg_data_uri(scale=4),
        sha256=report_hash(report),
        issued=_cst(report["issued_us"]).strftime("%Y-%m-%d %H:%M:%S（北京时间）"),
        as_of=as_of.strftime("%Y-%m-%d %H:%M:%S"),
        as_of_day=as_of.date().isoformat(),
        known_at=_cst_of(report["known_at"]).strftime("%Y-%m-%d %H:%M:%S"),
        period_from=content.get("period", {}).get("from"),
    )


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs (Pango) cannot be loaded here; the
    message says what to install (``tools/ensure-report-deps.sh``)."""


def render_pdf(report: Mapping[str, Any]) -> bytes:
    """The report typeset as PDF with ``credit-report.json`` attached.

    Raises:
        PdfUnavailable: WeasyPrint or Pango is missing (the JSON report still works).
    """
    try:
        from weasyprint import HTML, Attachment  # heavy: only when a PDF is asked for
    except (ImportError, OSError) as e:
        raise PdfUnavailable(
            f"PDF reports need WeasyPrint with Pango and the Noto CJK fonts "
            f"(tools/ensure-report-deps.sh): {e}"
        ) from e

    attachment = Attachment(
        string=canonical(dict(report)),
        name=ATTACHMENT_NAME,
        description="credit-report/1 (verify with tools/verify_report.py)",
    )
    pdf: bytes = HTML(string=render_html(report), base_url=str(_TEMPLATES)).write_pdf(
        attachments=[attachment]
    )
    return pdf
