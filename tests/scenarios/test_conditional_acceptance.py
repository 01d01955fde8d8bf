"""Scenario: conditional acceptance (容缺受理) misses its deadline — ``ledger tick``
records exactly one breach, even when two processes run it at the same moment."""

from __future__ import annotations

import multiprocessing
from typing import Any

from commands.decide import SYSTEM_SOURCE
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from ledger.app import Ledger
from services.deadlines import tick
from tests.scenarios.support import at, event, recorded, refused, views

SUBJECT = "91330100MA2CXXXX1F"
SAMR = "samr/330100"


def _tick_in_process(url: str, barrier: Any, queue: Any) -> None:
    """Run tick; both processes find the overdue commitment, then submit together."""
    app = bootstrap(Settings(database_url=url))
    real_submit = app.submit

    def submit_together(*args: Any, **kwargs: Any) -> Any:
        barrier.wait(timeout=60)
        return real_submit(*args, **kwargs)

    app.submit = submit_together  # type: ignore[method-assign]
    report = tick(app)
    queue.put(
        {
            "breaches": [b.commitment for b in report.breaches],
            "statuses": [o.status for o in report.outcomes],
        }
    )


def test_a_missed_deadline_is_breached_once_by_two_concurrent_ticks(
    ledger: Ledger, store_url: str
) -> None:
    (commitment, on_time) = recorded(
        ledger,
        event(
            "credit.commitment.made",
            SUBJECT,
            at("2025-09-22"),
            # due on National Day: the deadline moves to the next working day, 2025-10-09
            {
                "commitment_type": "approval-substitute",
                "matter": "营业执照变更登记（容缺受理）",
                "due": "2025-10-01",
            },
            SAMR,
        ),
        event(
            "credit.commitment.made",
            SUBJECT,
            at("2025-09-22", "11:00:00"),
            {
                "commitment_type": "approval-substitute",
                "matter": "食品经营许可（容缺受理）",
                "due": "2025-10-10",
            },
            SAMR,
        ),
    )
    recorded(
        ledger,
        event(
            "credit.commitment.fulfilled", SUBJECT, at("2025-10-09"), {"commitment": on_time}, SAMR
        ),
    )
    before = views(ledger, SUBJECT)
    if before is not None:
        overdue = [c["event_id"] for c in before[0]["overdue_commitments"]]
        assert overdue == [commitment]

    ctx = multiprocessing.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=_tick_in_process, args=(store_url, barrier, queue)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    reports = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert all(r["breaches"] == [commitment] for r in reports)
    assert sorted(s for r in reports for s in r["statuses"]) == ["recorded", "repeat"]

    breaches = [r for r in ledger.stream(SUBJECT) if r.type == "credit.commitment.breached"]
    assert len(breaches) == 1
    breach = breaches[0]
    assert (breach.id, breach.source) == (f"breach-{commitment}", SYSTEM_SOURCE)
    assert (
        breach.time == "2025-10-09T16:00:00Z"
    )  # 00:00 CST on 2025-10-10, the day after the deadline
    assert breach.data["commitment"] == commitment and breach.data["kind"] == "unfulfilled"
    assert (breach.data["due"], breach.data["deadline"]) == ("2025-10-01", "2025-10-09")

    # a third run finds nothing; the agency cannot fulfil the breached commitment any more
    assert tick(ledger).outcomes == []
    refused(
        ledger,
        event(
            "credit.commitment.fulfilled",
            SUBJECT,
            at("2025-10-20"),
            {"commitment": commitment},
            SAMR,
        ),
        "out-of-order",
    )
    # the breach is the accepting agency's finding: it orders the rectification
    recorded(
        ledger,
        event(
            "credit.rectification.ordered",
            SUBJECT,
            at("2025-10-13"),
            {"finding": breach.id, "deadline": "2025-11-13"},
            SAMR,
        ),
    )
    after = views(ledger, SUBJECT)
    if after is not None:
        standing, _ = after
        assert standing["overdue_commitments"] == []
        assert any(c["event_id"] == breach.id and c["points"] < 0 for c in standing["explanation"])
