#!/usr/bin/env python3
"""Persistence benchmark: Shoal vs Redis, alternately, in one run (see bench/README.md).

For each round and each server (alternating which goes first), on a fresh server in
a temporary directory:

1. load N keys through `redis-cli --pipe` (strings `key:NNNNNNNNNNNN` with 3-byte values,
   plus N/10 hashes of 10 fields, so that compact encodings are on disk too);
2. SAVE: wall time of the command and the size of the file;
3. BGSAVE under a concurrent write load (redis-benchmark SET overwriting those keys,
   whose names it generates the same way):
   a prober client sends one PING at a time and records the worst round trip
   while the save runs (the client stall), and the total memory of the server
   and its children (PSS from /proc/PID/smaps_rollup, so that a forked child's
   shared pages count once) is sampled every 10 ms: peak / idle is reported;
4. load: the server is restarted on the file, and the time from spawn until a
   PING is answered with PONG and `loading:0` is measured.

Medians over the rounds are printed with the ratio shoal/redis; raw results go
to bench/out/. Needs redis-server, redis-cli and redis-benchmark on PATH.
"""

import argparse
import json
import os
import pathlib
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402  (resp encoder, free_port, ping)


def pss_bytes(pid):
    """PSS of `pid` and its children (KB lines of smaps_rollup), in bytes."""
    total = 0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class Node:
    """A server on a fixed directory that can be restarted on its files."""

    def __init__(self, name, binary, workdir):
        self.name, self.binary, self.dir = name, binary, workdir
        self.port = bench.free_port()
        self.proc = None

    def start(self, timeout=300):
        log = open(os.path.join(self.dir, "server.log"), "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb"],
            cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.proc.returncode}")
            if bench.ping(self.port) and b"loading:0" in self.cli("INFO", "persistence").stdout:
                return time.monotonic() - t0
            time.sleep(0.01)
        raise RuntimeError(f"{self.name} did not start in {timeout} s")

    def cli(self, *args, stdin=None, timeout=600):
        return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
                              input=stdin, capture_output=True, timeout=timeout)

    def info(self, section):
        text = self.cli("INFO", section).stdout.decode()
        return dict(l.split(":", 1) for l in text.splitlines() if ":" in l)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)


def payload(n):
    parts = [bench.resp(b"SET", b"key:%012d" % i, b"v%02d" % (i % 100)) for i in range(n)]
    fields = []
    for f in range(10):
        fields += [b"f%d" % f, b"v%d" % f]
    parts += [bench.resp(b"HSET", b"hash:%07d" % i, *fields) for i in range(n // 10)]
    return b"".join(parts), n + n // 10


def prober(port, stop, out):
    """One PING at a time; the worst round trip while `stop` is unset."""
    worst = 0.0
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while not stop.is_set():
            t = time.monotonic()
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            buf = b""
            while not buf.endswith(b"\r\n"):
                chunk = s.recv(64)
                if not chunk:
                    return
                buf += chunk
            worst = max(worst, time.monotonic() - t)
            time.sleep(0.001)
    out["worst_ms"] = worst * 1000


def measure(name, binary, n):
    workdir = tempfile.mkdtemp(prefix=f"shoal-persist-{name}-")
    node = Node(name, binary, workdir)
    res = {}
    try:
        node.start()
        data, keys = payload(n)
        out = node.cli("--pipe", stdin=data)
        if out.returncode != 0 or f"errors: 0, replies: {keys}".encode() not in out.stdout:
            raise RuntimeError(f"load failed: {out.stdout[-300:]!r}")
        time.sleep(1)
        res["idle_pss"] = pss_bytes(node.proc.pid)

        t = time.monotonic()
        r = node.cli("SAVE")
        res["save_s"] = time.monotonic() - t
        if b"OK" not in r.stdout:
            raise RuntimeError(f"SAVE: {r.stdout!r} {r.stderr!r}")
        res["file_bytes"] = os.path.getsize(os.path.join(workdir, "dump.rdb"))

        # BGSAVE under write load.
        load = subprocess.Popen(
            ["redis-benchmark", "-h", "127.0.0.1", "-p", str(node.port), "-t", "set",
             "-r", str(n), "-n", str(50 * n), "-c", "20", "-q"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        stop, probe = threading.Event(), {}
        th = threading.Thread(target=prober, args=(node.port, stop, probe))
        th.start()
        time.sleep(0.3)
        before = int(node.info("persistence").get("rdb_saves", "0"))
        peak = pss_bytes(node.proc.pid)
        t = time.monotonic()
        node.cli("BGSAVE")
        deadline = t + 300
        while time.monotonic() < deadline:
            peak = max(peak, pss_bytes(node.proc.pid))
            info = node.info("persistence")
            if info.get("rdb_bgsave_in_progress") == "0" and int(info.get("rdb_saves", "0")) > before:
                break
            time.sleep(0.01)
        res["bgsave_s"] = time.monotonic() - t
        res["bgsave_status"] = node.info("persistence").get("rdb_last_bgsave_status")
        stop.set()
        th.join()
        load.kill()
        load.wait()
        res["stall_ms"] = probe.get("worst_ms")
        res["peak_pss"] = peak
        res["peak_over_idle"] = peak / res["idle_pss"]

        # Load time: restart on the file written by SAVE (BGSAVE's replaced it; both
        # hold the same keys).
        node.stop()
        res["load_s"] = node.start()
        res["loaded_keys"] = node.cli("DBSIZE").stdout.strip().decode()
    finally:
        node.stop()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shoal", default=str(REPO / "target/release/shoal-server"))
    ap.add_argument("--redis", default="redis-server")
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    servers = {"shoal": args.shoal, "redis": args.redis}
    results = {name: [] for name in servers}
    for rnd in range(args.rounds):
        order = list(servers) if rnd % 2 == 0 else list(reversed(servers))
        for name in order:
            print(f"round {rnd + 1}: {name}", flush=True)
            r = measure(name, servers[name], args.keys)
            print("  " + json.dumps(r), flush=True)
            results[name].append(r)
    metrics = [("save_s", "SAVE s"), ("file_bytes", "file bytes"), ("load_s", "load s"),
               ("bgsave_s", "BGSAVE s (under load)"), ("stall_ms", "worst PING ms in BGSAVE"),
               ("idle_pss", "idle PSS bytes"), ("peak_pss", "peak PSS in BGSAVE"),
               ("peak_over_idle", "peak / idle")]
    print(f"\nmedians over {args.rounds} round(s), {args.keys} strings + {args.keys // 10} hashes")
    print(f"{'metric':<28} {'shoal':>14} {'redis':>14} {'shoal/redis':>12}")
    for key, label in metrics:
        s = statistics.median(r[key] for r in results["shoal"])
        r_ = statistics.median(r[key] for r in results["redis"])
        print(f"{label:<28} {s:>14.3f} {r_:>14.3f} {s / r_ if r_ else 0:>12.2f}")
    outdir = HERE / "out"
    outdir.mkdir(exist_ok=True)
    path = outdir / f"persist-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1))
    print(f"\nraw results: {path}")


if __name__ == "__main__":
    main()
