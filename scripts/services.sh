#!/usr/bin/env bash
# Installs (from Debian packages, if missing) and starts the real services the test suite uses:
# PostgreSQL on 127.0.0.1:${OVERHEARD_PG_PORT:-54329}. Redis and Chromium are installed here too;
# tests start their own redis-server processes because they kill and restart them.
# Usage: scripts/services.sh start|stop   — prints the export lines for the URLs on start.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
state="$here/var/services"
pg_port=${OVERHEARD_PG_PORT:-54329}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)

need=()
[ -n "$pg_bin" ] || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "services: installing ${need[*]} from Debian packages" >&2
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  mkdir -p "$state"
  { $sudo_ apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${need[@]}"; } \
    >"$state/apt.log" 2>&1 || { tail -n 30 "$state/apt.log" >&2; exit 1; }
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
fi

# PostgreSQL refuses to run as root: run it as the 'postgres' user Debian's package creates.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# A checkout inside a folder only root may enter (`mktemp -d` makes one) is out of the postgres user's reach:
# its data folder then lives under /var/tmp, named after the checkout so that start and stop find the same one.
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$here" 2>/dev/null; then
  state="/var/tmp/overheard-services-$(printf '%s' "$here" | sha1sum | cut -c1-12)"
fi

case "${1:-start}" in
start)
  mkdir -p "$state"
  [ "$(id -u)" = 0 ] && chown postgres "$state"
  if [ ! -f "$state/pg/PG_VERSION" ]; then
    as_pg "$pg_bin/initdb" -D "$state/pg" -U overheard --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_pg "$pg_bin/pg_ctl" -D "$state/pg" status >/dev/null 2>&1; then
    as_pg "$pg_bin/pg_ctl" -D "$state/pg" -l "$state/pg.log" -w \
      -o "-p $pg_port -k $state -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
  fi
  as_pg "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U overheard -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='overheard_test'" | grep -q 1 ||
    as_pg "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U overheard overheard_test
  echo "export OVERHEARD_TEST_POSTGRES_URL=postgresql+psycopg://overheard@127.0.0.1:$pg_port/overheard_test"
  ;;
stop)
  [ -f "$state/pg/PG_VERSION" ] && as_pg "$pg_bin/pg_ctl" -D "$state/pg" -m fast stop >&2 || true
  ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
