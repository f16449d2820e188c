#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests: `start DIR` creates a cluster in DIR, starts it on a
# free loopback port (unix socket in DIR, trust authentication, fsync on unless PG_TEST_FSYNC=off,
# which the store suites use: a killed server keeps every acknowledged commit either way), creates
# the database `proofgate` and prints its URL (postgresql://proofgate@127.0.0.1:PORT/proofgate) as the only line
# on stdout; `stop DIR` stops it (fast shutdown) and removes DIR. Never touches the system service.
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` system user
# (runuser), and DIR is handed to that user. The database superuser is `proofgate` either way.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR | stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
command=$1
dir=$2

pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
db_user=proofgate
db_name=proofgate
run_as=""  # empty: the current user runs the server
if [ "$(id -u)" = 0 ]; then
  run_as=postgres
fi

# Runs a command as the cluster's owner.
as_owner() {
  if [ -n "$run_as" ]; then
    runuser -u "$run_as" -- "$@"
  else
    "$@"
  fi
}

# A port nobody listens on now. Another process may take it before the server binds it: start
# retries with a fresh port when the server cannot bind.
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

start() {
  # DIR is handed to the server's user and removed by stop: it must be new (or empty).
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    echo "pg-test-server: $dir exists and is not empty; give a new directory" >&2
    exit 1
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  # The unix socket path (DIR/.s.PGSQL.PORT) must fit in sun_path (107 bytes).
  if [ ${#dir} -gt 80 ]; then
    echo "pg-test-server: $dir is too long for a unix socket path" >&2
    exit 1
  fi
  if [ -n "$run_as" ]; then
    chown "$run_as": "$dir"
    if ! runuser -u "$run_as" -- test -w "$dir"; then
      echo "pg-test-server: $run_as cannot reach $dir (a parent directory is closed to it)" >&2
      exit 1
    fi
  fi
  chmod 700 "$dir"

  as_owner "$pg_bin/initdb" -D "$dir/data" -U "$db_user" -A trust -E UTF8 --locale=C \
    >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  # Loopback and the socket only, no password: nothing outside this machine can connect.
  as_owner sh -c "cat > '$dir/data/pg_hba.conf'" <<'EOF'
local all all trust
host  all all 127.0.0.1/32 trust
EOF
  as_owner sh -c "cat >> '$dir/data/postgresql.conf'" <<EOF

# pg-test-server.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = ${PG_TEST_FSYNC:-on}
synchronous_commit = on
max_connections = 200
log_min_messages = warning
log_min_error_statement = panic
EOF

  local port=""
  local attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$pg_bin/pg_ctl" start -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port" >"$dir/pg_ctl.log" 2>&1; then
      break
    fi
    port=""
    # Bound by someone else in between: try another port; anything else fails below.
    grep -q "could not bind\|could not create any TCP/IP sockets" "$dir/server.log" 2>/dev/null ||
      break
  done
  if [ -z "$port" ]; then
    echo "pg-test-server: the server did not start:" >&2
    cat "$dir/pg_ctl.log" >&2 || true
    tail -n 30 "$dir/server.log" >&2 || true
    exit 1
  fi

  "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$db_user" -d postgres \
    -c "CREATE DATABASE $db_name" >&2
  local url="postgresql://$db_user@127.0.0.1:$port/$db_name"
  echo "$url" >"$dir/url"
  echo "$url"
}

stop() {
  [ -e "$dir" ] || return 0
  # Only a directory this script made (initdb.log is its first file) is removed.
  if [ ! -e "$dir/initdb.log" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    echo "pg-test-server: $dir was not made by pg-test-server.sh start; not removing it" >&2
    exit 1
  fi
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$pg_bin/pg_ctl" stop -D "$dir/data" -m fast -w -t 60 >&2 || true
  fi
  rm -rf "$dir"
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
