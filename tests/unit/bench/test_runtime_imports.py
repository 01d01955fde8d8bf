"""The ledger's command line runs on the runtime dependencies alone (``make run``
installs no test extras): importing it must not need a test-only library."""

from __future__ import annotations

import subprocess
import sys

TEST_ONLY = ("httpx", "pytest", "hypothesis", "schemathesis", "playwright")


def test_the_command_line_imports_without_the_test_extras() -> None:
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in TEST_ONLY)
    code = f"import sys; {blocked}; import entrypoints.cli, bench.run, bench.concurrency"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]


def test_the_command_line_loads_pyarrow_and_duckdb_only_for_the_commands_that_use_them() -> None:
    """The ``ledger`` script is the main module every spawned worker (bench writers,
    rebuild workers) imports again: with pyarrow and duckdb in it, each worker held
    ~95 MiB more (a bench writer 199 against 116 MiB peak)."""
    code = (
        "import sys, entrypoints.cli; "
        "print(sorted(m for m in ('pyarrow', 'duckdb') if m in sys.modules))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "[]"
