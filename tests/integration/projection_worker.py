"""A projection runner in its own process, for the crash test.

``python -m tests.integration.projection_worker URL BATCH [PAUSE_AT]``: catches
the views up with batches of BATCH records; with PAUSE_AT, the PAUSE_AT-th
batch writes its rows, prints ``IN-BATCH <last notification id>`` and sleeps
inside its transaction (so it can be killed between writing and committing).
Prints ``COMMITTED <id>`` after each commit and ``DONE`` at the end.
"""

from __future__ import annotations

import sys
import time

from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from projections.runner import ProjectionRunner


def main(argv: list[str]) -> int:
    url, batch = argv[0], int(argv[1])
    pause_at = int(argv[2]) if len(argv) > 2 else None
    app = bootstrap(Settings(database_url=url))
    batches = 0

    def before_commit(last_id: int) -> None:
        nonlocal batches
        batches += 1
        if batches == pause_at:
            print(f"IN-BATCH {last_id}", flush=True)
            time.sleep(600)

    runner = ProjectionRunner(
        app.recorder,
        app.rules,  # type: ignore[arg-type]
        batch_size=batch,
        before_commit=before_commit,
    )
    while True:
        n = runner.run_once()
        if not n:
            break
        print(f"COMMITTED {min(runner.positions().values())}", flush=True)
    print("DONE", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
