"""Statistics for regulators (统计分析): SQL over the store and the views, run by DuckDB.

:func:`statistics` answers, for a region, sector, agency and period, at one
consistent position of the ledger (the records the materialised views had
processed, so records and views agree):

``records``
    records by kind, action and severity (every record as recorded: a later
    revocation is a record of its own, kind ``record``);
``by_region`` / ``by_sector``
    findings (penalty, violation) by the subject's region and by the agency kind;
``lists``
    list entries (designations) by list, exits (removals) by list and reason;
``repairs``
    repair requests, approvals, rejections and revocations;
``objections``
    filed, pending, resolved by outcome, and the decision time in working days
    (the official calendar, as a table) against the region's deadline;
``publications``
    publishable disclosure items with a 7-working-day deadline: on time, late
    (recorded after ``publish_by``), and those whose deadline the calendar cannot
    tell;
``grades``
    the current standing grade of the subjects concerned (``view_standing``), and
    the published evaluations by grade.

Filters: ``region`` (GB/T 2260: ``000000`` all, ``PP0000`` a province, ``PPCC00`` a
prefecture; the subject's registration region), ``sector`` (the recording
agency's kind), ``agency`` (its exact source), ``from``/``to`` (valid days, CST).

The engine is DuckDB over Arrow tables read from the store in bulk (no Python
pass over the records computes anything); the working-day calendar and the
objection deadlines go in as two small tables.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from commands.services import RuleServices
from commands.workflows.common import REGIONS
from ledger.store.views import ViewStore
from projections.timeline import instant_text

__all__ = ["StatisticsFilter", "region_prefix", "statistics", "statistics_csv"]


@dataclass(frozen=True, slots=True)
class StatisticsFilter:
    """What to count (None: no limit)."""

    region: str | None = None
    sector: str | None = None
    agency: str | None = None
    start: date | None = None
    end: date | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "sector": self.sector,
            "agency": self.agency,
            "from": None if self.start is None else self.start.isoformat(),
            "to": None if self.end is None else self.end.isoformat(),
        }


def region_prefix(region: str) -> str:
    """The code prefix of the subjects within ``region`` (positions 3… of a code)."""
    if region == "000000":
        return ""
    if region.endswith("0000"):
        return region[:2]
    if region.endswith("00"):
        return region[:4]
    return region


# -- reading the store in bulk ------------------------------------------------------------------

_RECORDS = pa.schema(
    [
        ("position", pa.int64()),
        ("subject", pa.string()),
        ("seq", pa.int64()),
        ("id", pa.string()),
        ("source", pa.string()),
        ("type", pa.string()),
        ("time_us", pa.int64()),
        ("recorded_us", pa.int64()),
        ("data", pa.string()),
    ]
)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else bytes(value).decode("utf-8")


RECORD_HASH = pa.field("hash", pa.string())
"""The extra column of :func:`record_rows` with ``hashes``: the record's audit hash (hex)."""


def record_schema(hashes: bool = False) -> pa.Schema:
    """The columns of :func:`record_batches` (with ``hash`` when ``hashes``)."""
    return _RECORDS.append(RECORD_HASH) if hashes else _RECORDS


def record_batches(
    store: ViewStore,
    upto: int,
    batch: int = 50_000,
    *,
    hashes: bool = False,
    source: str | None = None,
) -> Iterator[pa.RecordBatch]:
    """The records up to notification id ``upto`` in position order, ``batch`` at a
    time (``data`` as JSON text, as recorded: identity numbers stay encrypted),
    with their audit ``hash`` when ``hashes``, only those of ``source`` when given."""
    recorder = store.recorder
    schema = record_schema(hashes)
    columns = (
        "notification_id, subject, originator_version, event_id, source, topic, time_us, "
        "recorded_us, state, hash"
    )
    only = "" if source is None else " AND source = %s"
    extra: tuple[str, ...] = () if source is None else (source,)
    with store.read_cursor() as cursor:
        for low in range(0, upto, batch):
            cursor.execute(
                store.sql(
                    f"SELECT {columns} FROM {recorder.events_table} "
                    f"WHERE notification_id > %s AND notification_id <= %s{only} "
                    "ORDER BY notification_id"
                ),
                (low, min(low + batch, upto), *extra),
            )
            rows = cursor.fetchall()
            if not rows:
                continue
            cols = list(zip(*rows, strict=True))
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array([n - 1 for n in cols[0]], pa.int64()),
                    pa.array(cols[1], pa.string()),
                    pa.array(cols[2], pa.int64()),
                    pa.array(cols[3], pa.string()),
                    pa.array(cols[4], pa.string()),
                    pa.array(cols[5], pa.string()),
                    pa.array(cols[6], pa.int64()),
                    pa.array(cols[7], pa.int64()),
                    pa.array([_text(s) for s in cols[8]], pa.string()),
                    *([pa.array([bytes(h).hex() for h in cols[9]], pa.string())] if hashes else []),
                ],
                schema=schema,
            )


def record_rows(store: ViewStore, upto: int) -> pa.Table:
    """:func:`record_batches` (without hashes) as one table."""
    return pa.Table.from_batches(list(record_batches(store, upto)), schema=_RECORDS)


def _view_rows(store: ViewStore, sql: str, schema: pa.Schema) -> pa.Table:
    with store.read_cursor() as cursor:
        cursor.execute(store.sql(sql))
        rows = cursor.fetchall()
    cols: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pa.Table.from_arrays(
        [pa.array(list(c), f.type) for c, f in zip(cols, schema, strict=True)], schema=schema
    )


def _workdays(rules: RuleServices) -> tuple[pa.Table, int, int]:
    """Every working day of the years the calendar knows, and those years' span."""
    calendar = rules.calendar
    days: list[date] = []
    for year in sorted(calendar.known_years()):
        d = date(year, 1, 1)
        while d.year == year:
            if calendar.is_working_day(d):
                days.append(d)
            d += timedelta(days=1)
    years = sorted(calendar.known_years())
    table = pa.table({"day": pa.array(days, pa.date32())})
    return table, (years[0] if years else 0), (years[-1] if years else 0)


def _deadlines(rules: RuleServices) -> pa.Table:
    procedures = rules.procedures
    known = set(procedures.regions())
    prefixes = [p for p, name in REGIONS.items() if name in known]
    days = [procedures.objection_profile(REGIONS[p]).decide_working_days for p in prefixes]
    prefixes.append("*")
    days.append(procedures.objection_profile(None).decide_working_days)
    return pa.table({"prefix": pa.array(prefixes, pa.string()), "days": pa.array(days, pa.int32())})


# -- the queries ----------------------------------------------------------------------------------

_DAY = "(DATE '1970-01-01' + CAST((({us}) + 28800000000) // 86400000000 AS INTEGER))"


def _where(f: StatisticsFilter) -> tuple[str, list[Any]]:
    clauses = ["TRUE"]
    params: list[Any] = []
    if f.region:
        prefix = region_prefix(f.region)
        clauses.append("starts_with(substr(subject, 3, 6), ?)")
        params.append(prefix)
    if f.sector:
        clauses.append("split_part(source, '/', 1) = ?")
        params.append(f.sector)
    if f.agency:
        clauses.append("source = ?")
        params.append(f.agency)
    if f.start:
        clauses.append(_DAY.format(us="time_us") + " >= ?")
        params.append(f.start)
    if f.end:
        clauses.append(_DAY.format(us="time_us") + " <= ?")
        params.append(f.end)
    return " AND ".join(clauses), params


def _rows(con: duckdb.DuckDBPyConnection, sql: str, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    return [dict(zip(keys, row, strict=True)) for row in con.execute(sql).fetchall()]


def statistics(
    store: ViewStore, rules: RuleServices, filters: StatisticsFilter = StatisticsFilter()
) -> dict[str, Any]:
    """The statistics body (module docstring) at the views' position."""
    position = min(store.positions().values())
    records = record_rows(store, position)
    plans = _view_rows(
        store,
        f"SELECT subject, event_id, kind, body FROM {store.table('view_disclosure')}",
        pa.schema(
            [
                ("subject", pa.string()),
                ("event_id", pa.string()),
                ("kind", pa.string()),
                ("body", pa.string()),
            ]
        ),
    )
    standing = _view_rows(
        store,
        f"SELECT subject, grade FROM {store.table('view_standing')}",
        pa.schema([("subject", pa.string()), ("grade", pa.string())]),
    )
    workdays, first_year, last_year = _workdays(rules)
    deadlines = _deadlines(rules)
    where, params = _where(filters)
    con = duckdb.connect()
    try:
        con.register("records", records)
        con.register("plans", plans)
        con.register("standing", standing)
        con.register("workdays", workdays)
        con.register("deadlines", deadlines)
        con.execute(
            "CREATE TEMP TABLE r AS SELECT *, split_part(type, '.', 2) AS kind, "
            "split_part(type, '.', 3) AS action, substr(subject, 3, 6) AS region, "
            "split_part(source, '/', 1) AS sector, "
            f"{_DAY.format(us='time_us')} AS day, "
            "json_extract_string(data, '$.severity') AS severity "
            f"FROM records WHERE {where}",
            params,
        )
        body = {
            "position": position,
            "known_at": instant_text(records["recorded_us"][-1].as_py()) if len(records) else None,
            "filters": filters.to_json(),
            "records": _rows(
                con,
                "SELECT kind, action, severity, count(*) FROM r GROUP BY ALL ORDER BY ALL",
                ("kind", "action", "severity", "count"),
            ),
            "by_region": _rows(
                con,
                "SELECT region, count(*) FROM r WHERE kind IN ('penalty', 'violation') "
                "AND action IN ('decided', 'recorded') GROUP BY ALL ORDER BY ALL",
                ("region", "count"),
            ),
            "by_sector": _rows(
                con,
                "SELECT sector, count(*) FROM r WHERE kind IN ('penalty', 'violation') "
                "AND action IN ('decided', 'recorded') GROUP BY ALL ORDER BY ALL",
                ("sector", "count"),
            ),
            "lists": {
                "entries": _rows(
                    con,
                    "SELECT json_extract_string(p.data, '$.list'), count(*) FROM r d "
                    "JOIN records p ON p.subject = d.subject "
                    "AND p.id = json_extract_string(d.data, '$.proposal') "
                    "WHERE d.type = 'credit.list.designated' GROUP BY ALL ORDER BY ALL",
                    ("list", "count"),
                ),
                "exits": _rows(
                    con,
                    "SELECT json_extract_string(p.data, '$.list'), "
                    "json_extract_string(m.data, '$.reason'), count(*) FROM r m "
                    "JOIN records d ON d.subject = m.subject "
                    "AND d.id = json_extract_string(m.data, '$.designation') "
                    "JOIN records p ON p.subject = d.subject "
                    "AND p.id = json_extract_string(d.data, '$.proposal') "
                    "WHERE m.type = 'credit.list.removed' GROUP BY ALL ORDER BY ALL",
                    ("list", "reason", "count"),
                ),
            },
            "repairs": _rows(
                con,
                "SELECT action, count(*) FROM r WHERE kind = 'repair' GROUP BY ALL ORDER BY ALL",
                ("action", "count"),
            ),
            "objections": _objections(con, first_year, last_year),
            "publications": _publications(con),
            "grades": {
                "standing": _rows(
                    con,
                    "SELECT s.grade, count(*) FROM standing s "
                    "WHERE s.subject IN (SELECT subject FROM r) GROUP BY ALL ORDER BY ALL",
                    ("grade", "count"),
                ),
                "evaluations": _rows(
                    con,
                    "SELECT json_extract_string(data, '$.grade'), count(*) FROM r "
                    "WHERE type = 'credit.evaluation.published' GROUP BY ALL ORDER BY ALL",
                    ("grade", "count"),
                ),
            },
        }
    finally:
        con.close()
    return body


def _objections(con: duckdb.DuckDBPyConnection, first_year: int, last_year: int) -> dict[str, Any]:
    con.execute(
        "CREATE TEMP TABLE decided AS SELECT f.id, f.subject, f.day AS filed, "
        f"{_DAY.format(us='o.time_us')} AS resolved, "
        "json_extract_string(o.data, '$.outcome') AS outcome, "
        "coalesce(d.days, (SELECT days FROM deadlines WHERE prefix = '*')) AS allowed "
        "FROM r f JOIN records o ON o.subject = f.subject "
        "AND json_extract_string(o.data, '$.objection') = f.id "
        "AND o.type = 'credit.objection.resolved' "
        "LEFT JOIN deadlines d ON d.prefix = substr(f.subject, 3, 2) "
        "WHERE f.type = 'credit.objection.filed'"
    )
    known = (
        f"year(filed) >= {first_year} AND year(resolved) <= {last_year}" if first_year else "FALSE"
    )
    con.execute(
        "CREATE TEMP TABLE timed AS SELECT *, CASE WHEN "
        + known
        + " THEN (SELECT count(*) FROM workdays w WHERE w.day > filed AND w.day <= resolved) "
        "END AS working_days FROM decided"
    )
    filed, pending = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE id NOT IN (SELECT id FROM decided)) "
        "FROM r WHERE type = 'credit.objection.filed'"
    ).fetchone() or (0, 0)
    on_time, late, unknown, mean = con.execute(
        "SELECT count(*) FILTER (WHERE working_days <= allowed), "
        "count(*) FILTER (WHERE working_days > allowed), "
        "count(*) FILTER (WHERE working_days IS NULL), avg(working_days) FROM timed"
    ).fetchone() or (0, 0, 0, None)
    return {
        "filed": filed,
        "pending": pending,
        "resolved": _rows(
            con,
            "SELECT outcome, count(*) FROM decided GROUP BY ALL ORDER BY ALL",
            ("outcome", "count"),
        ),
        "decided_on_time": on_time,
        "decided_late": late,
        "decision_time_unknown": unknown,
        "mean_working_days": None if mean is None else round(float(mean), 2),
    }


def _publications(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    con.execute(
        "CREATE TEMP TABLE due AS SELECT p.kind, "
        "CAST(json_extract_string(p.body, '$.publish_by') AS DATE) AS publish_by, "
        + _DAY.format(us="CAST(json_extract(p.body, '$.recorded_us') AS BIGINT)")
        + " AS recorded "
        "FROM plans p JOIN r ON r.subject = p.subject AND r.id = p.event_id "
        "WHERE json_extract_string(p.body, '$.publishable') = 'true' "
        "AND (json_extract_string(p.body, '$.publish_by') IS NOT NULL "
        "OR NOT starts_with(coalesce(json_extract_string(p.body, '$.publish_by_note'), "
        "'no publication deadline'), 'no publication deadline'))"
    )
    return {
        "by_kind": _rows(
            con,
            "SELECT kind, count(*) FILTER (WHERE recorded <= publish_by), "
            "count(*) FILTER (WHERE recorded > publish_by), "
            "count(*) FILTER (WHERE publish_by IS NULL) FROM due GROUP BY ALL ORDER BY ALL",
            ("kind", "on_time", "late", "unknown"),
        ),
        "rule": "国办发〔2019〕35号 第十五条: within 7 working days of the act",
    }


def statistics_csv(body: dict[str, Any]) -> str:
    """The statistics as one long CSV: ``section, key, key2, key3, count``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", "key2", "key3", "count"])

    def rows(section: str, items: list[dict[str, Any]]) -> None:
        for item in items:
            keys = [v for k, v in item.items() if k != "count"]
            keys += [""] * (3 - len(keys))
            writer.writerow([section, *("" if k is None else k for k in keys[:3]), item["count"]])

    rows("records", body["records"])
    rows("by_region", body["by_region"])
    rows("by_sector", body["by_sector"])
    rows("list_entries", body["lists"]["entries"])
    rows("list_exits", body["lists"]["exits"])
    rows("repairs", body["repairs"])
    objections = body["objections"]
    rows("objections_resolved", objections["resolved"])
    for key in ("filed", "pending", "decided_on_time", "decided_late", "decision_time_unknown"):
        writer.writerow(["objections", key, "", "", objections[key]])
    for item in body["publications"]["by_kind"]:
        for key in ("on_time", "late", "unknown"):
            writer.writerow(["publications", item["kind"], key, "", item[key]])
    rows("grades_standing", body["grades"]["standing"])
    rows("grades_evaluations", body["grades"]["evaluations"])
    return out.getvalue()
