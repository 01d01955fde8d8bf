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
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import orjson

from bench.composition import entry
from bench.workloads import SCALES, Workload
from events.envelope import parse_submission
from ledger.app import Ledger
from ledger.audit import checkpoints, keys


def load(open_ledger: Callable[[str], Ledger], url: str, scale: str, key_file: Path) -> None:
    """Record the workload of ``scale`` in ``open_ledger(url)`` and sign a checkpoint over it."""
    ledger = open_ledger(url)
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


def run_exports(
    argv: Sequence[str] | None,
    open_ledger: Callable[[str], Ledger],
    environ: Mapping[str, str],
) -> None:
    """The export rows (module docstring): ``open_ledger(url)`` builds the ledger
    ``--load`` fills; each ``ledger export`` runs in ``environ`` (the caller's settings'
    child environment) with the store URL and key file set."""
    p = argparse.ArgumentParser(prog="python -m bench.exports", description=__doc__)
    p.add_argument("--url", required=True)
    p.add_argument("--scale", default="large")
    p.add_argument("--load", action="store_true")
    p.add_argument("--kinds", default="records,disclosure,standing")
    p.add_argument("--key", default=str(Path(tempfile.gettempdir()) / "bench-export.key"))
    args = p.parse_args(argv)
    if args.load:
        load(open_ledger, args.url, args.scale, Path(args.key))
    ledger_bin = str(Path(sys.executable).with_name("ledger"))
    env = {**environ, "LEDGER_DATABASE_URL": args.url, "LEDGER_SIGNING_KEY_FILE": args.key}
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
    entry("exports_main")(sys.argv[1:])
