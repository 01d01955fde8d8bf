#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 (or $PGHOST:$PGPORT).
# Starts the local cluster when it is installed but stopped; fails loudly otherwise.
set -u
host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
ready() { pg_isready -h "$host" -p "$port" -q 2>/dev/null || \
  python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('$host',$port)))"; }
# The suite runs two workers, each with stores, pools, `serve` processes, three regional
# ledgers and a national store at once: PostgreSQL's default 100 connections run out.
# Raise the limit once (ALTER SYSTEM, then a restart of the local cluster).
want_connections=400
raise_connections() {
  have=$(psql -h "$host" -p "$port" -U postgres -Atc "SHOW max_connections" 2>/dev/null) || return 0
  [ -n "$have" ] && [ "$have" -ge "$want_connections" ] && return 0
  command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] || return 0
  echo "PostgreSQL max_connections $have -> $want_connections (restarting the local cluster)" >&2
  psql -h "$host" -p "$port" -U postgres -qc "ALTER SYSTEM SET max_connections = $want_connections" || return 0
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main restart || true
  done
  for _ in $(seq 30); do ready && return 0; sleep 1; done
}
if ready; then raise_connections; ready && exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql); do
    echo "starting PostgreSQL $version (cluster main)" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 30); do ready && { raise_connections; ready && exit 0; }; sleep 1; done
fi
echo "FATAL: no PostgreSQL reachable at $host:$port, and no local cluster could be started." >&2
echo "       The suite runs every store test against PostgreSQL too; it does not skip them." >&2
exit 1
