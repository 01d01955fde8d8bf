#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 (or $PGHOST:$PGPORT).
# Starts the local cluster when it is installed but stopped; fails loudly otherwise.
set -u
host=${PGHOST:-127.0.0.1}
port=${PGPORT:-5432}
ready() { pg_isready -h "$host" -p "$port" -q 2>/dev/null || \
  python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('$host',$port)))"; }
ready && exit 0
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql); do
    echo "starting PostgreSQL $version (cluster main)" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 30); do ready && exit 0; sleep 1; done
fi
echo "FATAL: no PostgreSQL reachable at $host:$port, and no local cluster could be started." >&2
echo "       The suite runs every store test against PostgreSQL too; it does not skip them." >&2
exit 1
