"""The export benchmark row: a 1,000,000-record ledger (the ``large`` workload of
``bench.workloads``) exported as Parquet, time and peak memory per kind.

``python -m bench.exports --url postgresql://…?schema=… [--load] [--kinds records,disclosure]``:
``--load`` first records the workload (bulk submit) and signs a checkpoint; each kind
then runs as ``ledger export KIND --output FILE`` in its own process under
``/usr/bin/time -v`` (wall time and maximum resident set size), so one kind's memory
does not hide in another's.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from bench.workloads import SCALES, Workload
from entrypoints.bootstrap import bootstrap
from entrypoints.settings import Settings
from events.envelope import parse_submission
from ledger.audit import checkpoints, keys


def load(url: str, scale: str, key_file: Path) -> None:
    """Record the workload of ``scale`` and sign a checkpoint over it."""
    ledger = bootstrap(Settings(database_url=url))
    started = time.monotonic()
    workload = Workload(SCALES[scale])
    for n, batch in enumerate(workload.batches(1000), 1):
        ledger.submit(parse_submission(orjson.dumps([e.event for e in batch])))
        if n % 100 == 0:
            print(f"  {n * 1000:,} events in {time.monotonic() - started:.0f} s", file=sys.stderr)
    checkpoints.issue_checkpoint(
        ledger.recorder, keys.load_or_create_key(key_file), "credit-ledger", ledger.clock()
    )
    print(f"loaded {workload.size:,} events in {time.monotonic() - started:.0f} s", file=sys.stderr)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--url", required=True)
    p.add_argument("--scale", default="large")
    p.add_argument("--load", action="store_true")
    p.add_argument("--kinds", default="records,disclosure,standing")
    p.add_argument("--key", default=str(Path(tempfile.gettempdir()) / "bench-export.key"))
    args = p.parse_args()
    if args.load:
        load(args.url, args.scale, Path(args.key))
    ledger_bin = str(Path(sys.executable).with_name("ledger"))
    env = {**os.environ, "LEDGER_DATABASE_URL": args.url, "LEDGER_SIGNING_KEY_FILE": args.key}
    for kind in args.kinds.split(","):
        out = Path(tempfile.gettempdir()) / f"bench-export-{kind}.parquet"
        run = subprocess.run(
            ["/usr/bin/time", "-v", ledger_bin, "export", kind, "--output", str(out)],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", run.stderr)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr)
        summary = next(
            (line for line in run.stderr.splitlines() if line.startswith("exported")), ""
        )
        print(
            f"{kind}: wall {wall.group(1) if wall else '?'}, peak RSS "
            f"{int(rss.group(1)) // 1024 if rss else '?'} MiB, {out.stat().st_size:,} bytes; {summary}"
        )


if __name__ == "__main__":
    main()
