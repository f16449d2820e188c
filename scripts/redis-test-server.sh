#!/usr/bin/env bash
# A throwaway redis-server for tests, on loopback and a free port, with its config, pidfile and
# log in DIR (never the system service).
#
#   redis-test-server.sh start DIR [--port PORT] [--persist] [--owner PID]
#       Starts a daemonized redis-server and prints its URL (redis://127.0.0.1:PORT) once it
#       answers PING. Without --port it picks a free port (retrying if another process wins it).
#       --persist turns on the append-only file in DIR (appendfsync always), so a server killed
#       with -9 and started again on the same DIR keeps its keys; otherwise nothing is persisted.
#       --owner PID shuts the server down (and removes DIR) once process PID is gone, so a test
#       binary that crashes leaves nothing running.
#   redis-test-server.sh stop DIR
#       Shuts the server down without saving (SIGTERM, then SIGKILL after 5 s) and removes DIR.
#
# Exit status: 0 on success; 1 with a message on stderr otherwise.
set -euo pipefail

die() {
  echo "redis-test-server: $*" >&2
  exit 1
}

usage() {
  die "usage: $0 start DIR [--port PORT] [--persist] [--owner PID] | stop DIR"
}

# A port nothing listens on now (the kernel's choice for port 0).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# A running process (a zombie not yet reaped is not one).
alive() {
  local state
  state=$(sed -n 's/^.*) \([A-Za-z]\).*$/\1/p' "/proc/$1/stat" 2>/dev/null || true)
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# The pid of the server started from DIR, if it runs.
server_pid() {
  local pid
  pid=$(cat "$1/redis.pid" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && echo "$pid"
}

# Starts redis-server on PORT; 0 once it answers PING, 1 if it exits first (the port was taken)
# or does not answer within 10 s.
try_start() {
  local dir=$1 port=$2 persist=$3
  rm -f "$dir/redis.pid"
  {
    echo "bind 127.0.0.1"
    echo "port $port"
    echo "protected-mode yes"
    echo "daemonize yes"
    echo "pidfile $dir/redis.pid"
    echo "logfile $dir/redis.log"
    echo "dir $dir"
    echo 'save ""'
    if [ "$persist" = 1 ]; then
      echo "appendonly yes"
      echo "appendfsync always"
    else
      echo "appendonly no"
    fi
  } >"$dir/redis.conf"
  echo "$port" >"$dir/port"
  redis-server "$dir/redis.conf" || return 1
  local i
  for ((i = 0; i < 200; i++)); do
    if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; then
      # Make sure the server answering is ours, not another one that holds the port.
      [ -n "$(server_pid "$dir")" ] && return 0
    fi
    if [ -f "$dir/redis.pid" ] && [ -z "$(server_pid "$dir")" ]; then return 1; fi
    if ((i > 10)) && [ ! -f "$dir/redis.pid" ] && grep -q "Could not create server TCP listening socket" "$dir/redis.log" 2>/dev/null; then
      return 1
    fi
    sleep 0.05
  done
  local pid
  pid=$(server_pid "$dir" || true)
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  return 1
}

stop_server() {
  local dir=$1 pid i
  pid=$(server_pid "$dir" || true)
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      alive "$pid" || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || usage
shift 2

case "$cmd" in
  start)
    port="" persist=0 owner=""
    while (($#)); do
      case "$1" in
        --port) port=${2:-}; [[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "--port needs a port 1..65535"; shift 2 ;;
        --persist) persist=1; shift ;;
        --owner) owner=${2:-}; [[ "$owner" =~ ^[0-9]+$ ]] || die "--owner needs a process id"; shift 2 ;;
        *) usage ;;
      esac
    done
    command -v redis-server >/dev/null || die "redis-server is not installed (scripts/install-deps.sh installs it)"
    command -v redis-cli >/dev/null || die "redis-cli is not installed (scripts/install-deps.sh installs it)"
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ -z "$(server_pid "$dir" || true)" ] || die "a server already runs from $dir (pid $(cat "$dir/redis.pid"))"
    started=0
    if [ -n "$port" ]; then
      try_start "$dir" "$port" "$persist" && started=1
    else
      for _ in 1 2 3 4 5; do
        port=$(free_port) || die "could not find a free port (python3 is needed)"
        if try_start "$dir" "$port" "$persist"; then started=1; break; fi
      done
    fi
    if [ "$started" != 1 ]; then
      tail -n 5 "$dir/redis.log" >&2 2>/dev/null || true
      die "redis-server did not start on 127.0.0.1:${port} (log: $dir/redis.log)"
    fi
    if [ -n "$owner" ]; then
      # Detached and with its own stdio, so a caller reading our stdout sees EOF now.
      pid=$(server_pid "$dir")
      setsid bash -c '
        alive() { local s; s=$(sed -n "s/^.*) \([A-Za-z]\).*$/\1/p" "/proc/$1/stat" 2>/dev/null); [ -n "$s" ] && [ "$s" != Z ]; }
        while alive "$1" && alive "$2"; do sleep 1; done
        if alive "$2"; then "$3" stop "$4"; fi
      ' watchdog "$owner" "$pid" "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" "$dir" \
        </dev/null >/dev/null 2>&1 &
    fi
    echo "redis://127.0.0.1:$port"
    ;;
  stop)
    [ -d "$dir" ] || exit 0
    [ -f "$dir/redis.conf" ] || die "$dir does not look like a test server's directory (no redis.conf); not removing it"
    stop_server "$dir"
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
