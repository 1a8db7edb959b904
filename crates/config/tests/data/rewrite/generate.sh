#!/bin/bash
# Regenerates expected.conf in every case folder with the reference server:
# Debian's redis-server 7.0.15 must be on PATH. Each case has input.conf
# (@DIR@ stands for a scratch directory), optional extra *.conf files copied
# beside it, and optional commands.txt (redis-cli syntax, one per line) run
# before CONFIG REWRITE. The server listens on a unix socket only (every
# input has "port 0"; --port 0 is forced too, so that a broken input never
# listens on TCP).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
for case in "$here"/*/; do
    test -s "$case/input.conf"
    name=$(basename "$case")
    dir=$(mktemp -d); dir=$(cd "$dir" && pwd -P)
    for f in "$case"*.conf; do
        [ "$(basename "$f")" = expected.conf ] && continue
        sed "s#@DIR@#$dir#g" "$f" > "$dir/$(basename "$f")"
    done
    (cd "$dir" && exec redis-server "$dir/input.conf" --daemonize no --port 0 > "$dir/log" 2>&1) &
    pid=$!
    for _ in $(seq 1 100); do [ -S "$dir/r.sock" ] && break; sleep 0.05; done
    if [ -f "$case/commands.txt" ]; then
        redis-cli -s "$dir/r.sock" < "$case/commands.txt" > /dev/null
    fi
    test "$(redis-cli -s "$dir/r.sock" config rewrite)" = OK
    redis-cli -s "$dir/r.sock" shutdown nosave now force > /dev/null || true
    kill "$pid" 2> /dev/null || true
    wait "$pid" || true
    sed "s#$dir#@DIR@#g" "$dir/input.conf" > "$case/expected.conf"
    rm -rf "$dir"
    echo "$name: ok"
done
