#!/usr/bin/env bash
# Runs a bench with the engine side on CPU 1 (the local PostgreSQL and Redis servers, and every engine worker
# the bench spawns) and the bench itself, its floor and the API on CPU 0: a 2-core machine standing in for the
# API on a host of its own. Puts PostgreSQL and Redis back on every CPU when it ends, however it ends.
#   bench/split-cpus.sh npm run bench:api
set -uo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 <bench command...>"; exit 2; }
command -v taskset >/dev/null || { echo "taskset is not installed"; exit 2; }
all=$(taskset -pc $$ | sed 's/.*: //')
servers() { pgrep -x postgres; pgrep -x redis-server; }
pin() { for p in $(servers); do taskset -a -cp "$1" "$p" >/dev/null 2>&1; done; }
pin 1
# New PostgreSQL backends are forked by the pinned postmaster; worker processes are caught as they start.
( while true; do
    for p in $(pgrep -f 'worker\.js'); do taskset -a -cp 1 "$p" >/dev/null 2>&1; done
    sleep 0.5
  done ) &
watcher=$!
trap 'kill $watcher 2>/dev/null; pin "$all"' EXIT
taskset -c 0 "$@"
