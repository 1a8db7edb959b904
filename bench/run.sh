#!/usr/bin/env bash
# Builds shoal-server in release mode, then benchmarks it against Debian's
# redis-server (bench/bench.py). Arguments go to bench.py (--help lists them);
# SKIP_BUILD=1 uses the existing binary; SHOAL_FEATURES=alloc-jemalloc (or
# alloc-mimalloc) builds on that allocator. See bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_BUILD:-0}" != 1 ]; then
    cargo build --release --bin shoal-server ${SHOAL_FEATURES:+--features "$SHOAL_FEATURES"} || echo "bench: release build of shoal-server failed; continuing with redis only" >&2
fi
exec python3 bench/bench.py "$@"
