#!/usr/bin/env python3
"""Shoal vs Redis benchmark driver (see bench/README.md).

For each round, each server (alternating which goes first) is started fresh on
an ephemeral loopback port and measured with redis-benchmark: SET, GET, INCR and
MSET, LPUSH, HSET, ZADD and XADD with 50 clients at pipeline depth 1 and 16,
recording throughput, p50/p99 latency and the server's CPU time per operation.
Then each server is loaded through `redis-cli --pipe` with small string keys,
hashes of 10 small fields and sorted sets of 10 members, each on a fresh server,
to measure resident memory per key (anonymous resident memory, the heap: the
binary's code pages, faulted in the first time a code path runs, are the same for
one key or a million; the total VmRSS per key is reported beside it). Medians over the rounds are printed with the ratio shoal/redis; raw
results go to bench/out/.
"""

import argparse
import csv
import datetime
import io
import json
import os
import pathlib
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
# name -> redis-benchmark arguments selecting the test
TESTS = {
    "set": ["-t", "set"],
    "get": ["-t", "get"],
    "incr": ["-t", "incr"],
    "mset": ["-t", "mset"],
    "lpush": ["-t", "lpush"],
    "hset": ["-t", "hset"],
    "zadd": ["-t", "zadd"],
    # redis-benchmark 7.0 has no xadd test: a custom command on one stream
    "xadd": ["XADD", "bench:stream", "*", "field", "value"],
}
DEFAULT_TESTS = "set,get,incr,mset,lpush,hset,zadd,xadd"
PIPELINES = [1, 16]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert port != 6379
    return port


def ping(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Server:
    def __init__(self, name, binary, extra=()):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"shoal-bench-{name}-")
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "server.log")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--save", "", "--appendonly", "no", *extra],
            cwd=self.dir, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_tail()  # before stop() removes the directory
                self.stop()
                raise RuntimeError(f"{binary} exited ({self.proc.returncode}): {tail}")
            if ping(self.port):
                return
            time.sleep(0.05)
        tail = self.log_tail()
        self.stop()
        raise RuntimeError(f"{binary} did not answer PING in 15 s: {tail}")

    def log_tail(self, n=10):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def cpu_seconds(self):
        """utime + stime of the server process, from /proc/PID/stat."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        # fields[0] is field 3 (state); utime and stime are fields 14 and 15
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def rss_bytes(self, field="RssAnon"):
        """A resident-memory figure of /proc/PID/status (RssAnon or VmRSS), in bytes."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {field}")

    def cli(self, *args, stdin=None, timeout=600):
        return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
                              input=stdin, capture_output=True, timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_benchmark(server, test, pipeline, n, clients, keyspace):
    args = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(server.port), "-c", str(clients),
            "-P", str(pipeline), "-n", str(n), "--csv"]
    if keyspace:
        args += ["-r", str(keyspace)]
    # options first: a custom command must come last
    args += TESTS[test]
    cpu0 = server.cpu_seconds()
    t0 = time.monotonic()
    out = subprocess.run(args, capture_output=True, timeout=900)
    wall = time.monotonic() - t0
    cpu1 = server.cpu_seconds()
    text = out.stdout.decode(errors="replace")
    if out.returncode != 0 or "error" in (text + out.stderr.decode(errors="replace")).lower():
        raise RuntimeError(f"redis-benchmark failed ({out.returncode}): {text} {out.stderr!r}")
    rows = list(csv.DictReader(io.StringIO(text)))
    if len(rows) != 1:
        raise RuntimeError(f"unexpected redis-benchmark output: {text!r}")
    row = rows[0]
    return {
        "rps": float(row["rps"]),
        "p50_ms": float(row["p50_latency_ms"]),
        "p99_ms": float(row["p99_latency_ms"]),
        "cpu_us_per_op": (cpu1 - cpu0) * 1e6 / n,
        "wall_s": wall,
        "requests": n,
        "loadavg_1m": os.getloadavg()[0],
    }


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def resp_sets(count):
    """SET key:NNNNNNN v<2 digits>, count times."""
    return b"".join(resp(b"SET", b"key:%07d" % i, b"v%02d" % (i % 100)) for i in range(count))


def resp_hashes(count):
    """HSET hash:NNNNNNN with 10 fields f0..f9 of small values, count times."""
    fields = []
    for f in range(10):
        fields += [b"f%d" % f, b"v%d" % f]
    return b"".join(resp(b"HSET", b"hash:%07d" % i, *fields) for i in range(count))


def resp_zsets(count):
    """ZADD zset:NNNNNNN with 10 members m0..m9 scored 0..9, count times."""
    members = []
    for m in range(10):
        members += [b"%d" % m, b"m%d" % m]
    return b"".join(resp(b"ZADD", b"zset:%07d" % i, *members) for i in range(count))


# memory test name -> (payload builder, default key count)
MEMORY = {
    "strings": (resp_sets, 1_000_000),
    "hash10": (resp_hashes, 100_000),
    "zset10": (resp_zsets, 100_000),
}


def measure_memory(server, payload, count):
    time.sleep(0.5)
    before = server.rss_bytes()
    before_total = server.rss_bytes("VmRSS")
    out = server.cli("--pipe", stdin=payload)
    text = out.stdout.decode(errors="replace")
    if out.returncode != 0 or f"errors: 0, replies: {count}" not in text:
        raise RuntimeError(f"redis-cli --pipe failed: {text} {out.stderr!r}")
    dbsize = int(server.cli("DBSIZE").stdout.strip() or b"-1")
    if dbsize != count:
        raise RuntimeError(f"DBSIZE is {dbsize}, expected {count}")
    time.sleep(0.5)
    after = server.rss_bytes()
    after_total = server.rss_bytes("VmRSS")
    return {"rss_before": before, "rss_after": after, "keys": count,
            "bytes_per_key": (after - before) / count,
            "vmrss_bytes_per_key": (after_total - before_total) / count}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def machine_info():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "kernel": platform.release()}


def fmt(v, digits=2):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shoal", default=str(REPO / os.environ.get("CARGO_TARGET_DIR", "target")
                                         / "release" / "shoal-server"))
    ap.add_argument("--redis", default="/usr/bin/redis-server")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--server-args", default="",
                    help="extra arguments for both servers, e.g. "
                         "'--appendonly yes --appendfsync everysec'")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--n-p1", type=int, default=200_000, help="requests per run at -P 1")
    ap.add_argument("--n-p16", type=int, default=2_000_000, help="requests per run at -P 16")
    ap.add_argument("--keyspace", type=int, default=100_000,
                    help="redis-benchmark -r (0: every request on the same key)")
    ap.add_argument("--keys", type=int, default=0,
                    help="keys per memory test (default: 1M strings, 100k hashes/zsets)")
    ap.add_argument("--tests", default=DEFAULT_TESTS,
                    help=f"comma-separated throughput tests ({', '.join(TESTS)})")
    ap.add_argument("--memory", default=",".join(MEMORY),
                    help=f"comma-separated memory tests ({', '.join(MEMORY)}; empty: none)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: checks that the script works")
    ap.add_argument("--out", default=str(HERE / "out"))
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.n_p1, args.n_p16, args.keys = 1, 20_000, 100_000, 20_000
    tests = [t for t in args.tests.split(",") if t]
    mem_tests = [m for m in args.memory.split(",") if m]
    for t in tests:
        if t not in TESTS:
            sys.exit(f"unknown test {t!r}")
    for m in mem_tests:
        if m not in MEMORY:
            sys.exit(f"unknown memory test {m!r}")

    servers = {"shoal": args.shoal, "redis": args.redis}
    for tool in ("redis-benchmark", "redis-cli"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install redis-tools")

    results = {name: {"bench": {}, "memory": {}, "errors": []} for name in servers}
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: load average is {load:.2f} before starting: other work on this machine "
              f"will make the numbers noisy (compare cpu us/op, which suffers least)", flush=True)
    payloads = {}
    for m in mem_tests:
        build, default = MEMORY[m]
        count = args.keys or default
        payloads[m] = (build(count), count)
    started = datetime.datetime.now()

    for rnd in range(args.rounds):
        order = list(servers) if rnd % 2 == 0 else list(reversed(servers))
        for name in order:
            binary = servers[name]
            print(f"round {rnd + 1}/{args.rounds}: {name} ({binary})", flush=True)
            # throughput, latency and CPU
            try:
                server = Server(name, binary, args.server_args.split())
            except Exception as e:  # noqa: BLE001 - report and go on with the other server
                print(f"  {name}: cannot start: {e}", flush=True)
                results[name]["errors"].append(f"round {rnd + 1}: start: {e}")
                continue
            try:
                for p in PIPELINES:
                    n = args.n_p1 if p == 1 else args.n_p16
                    for test in tests:
                        key = f"{test.upper()} P{p}"
                        try:
                            if not server.alive():
                                raise RuntimeError("server died: " + server.log_tail())
                            r = run_benchmark(server, test, p, n, args.clients, args.keyspace)
                        except Exception as e:  # noqa: BLE001
                            print(f"  {key}: FAILED: {e}", flush=True)
                            results[name]["errors"].append(f"round {rnd + 1}: {key}: {e}")
                            continue
                        results[name]["bench"].setdefault(key, []).append(r)
                        print(f"  {key:<8} {r['rps']:>12,.0f} rps  p50 {r['p50_ms']:.3f} ms"
                              f"  p99 {r['p99_ms']:.3f} ms  {r['cpu_us_per_op']:.2f} cpu-us/op",
                              flush=True)
            finally:
                server.stop()
            # memory, each kind on a fresh server
            for m in mem_tests:
                payload, count = payloads[m]
                try:
                    server = Server(name, binary, args.server_args.split())
                except Exception as e:  # noqa: BLE001
                    results[name]["errors"].append(f"round {rnd + 1}: start (memory): {e}")
                    continue
                try:
                    r = measure_memory(server, payload, count)
                    results[name]["memory"].setdefault(m, []).append(r)
                    print(f"  memory {m}: {r['bytes_per_key']:.1f} bytes/key over {count} keys "
                          f"(RSS {r['rss_before'] / 2**20:.1f} -> "
                          f"{r['rss_after'] / 2**20:.1f} MiB)", flush=True)
                except Exception as e:  # noqa: BLE001
                    print(f"  memory {m}: FAILED: {e}", flush=True)
                    results[name]["errors"].append(f"round {rnd + 1}: memory {m}: {e}")
                finally:
                    server.stop()

    # medians and the table
    rows = []
    keys = [f"{t.upper()} P{p}" for p in PIPELINES for t in tests]
    metrics = [("rps", "rps", True), ("p50_ms", "p50 ms", False), ("p99_ms", "p99 ms", False),
               ("cpu_us_per_op", "cpu us/op", False)]
    summary = {}
    for key in keys:
        for metric, label, _ in metrics:
            vals = {name: median([r[metric] for r in results[name]["bench"].get(key, [])])
                    for name in servers}
            summary[f"{key} {label}"] = vals
            rows.append((f"{key} {label}", vals["shoal"], vals["redis"]))
    for m in mem_tests:
        mem = {name: median([r["bytes_per_key"] for r in results[name]["memory"].get(m, [])])
               for name in servers}
        summary[f"memory {m} bytes/key"] = mem
        rows.append((f"mem {m} bytes/key", mem["shoal"], mem["redis"]))
        total = {name: median([r.get("vmrss_bytes_per_key")
                               for r in results[name]["memory"].get(m, [])])
                 for name in servers}
        summary[f"memory {m} VmRSS bytes/key"] = total
        rows.append((f"mem {m} VmRSS B/key", total["shoal"], total["redis"]))

    lines = [f"{'metric':<26} {'shoal':>14} {'redis':>14} {'shoal/redis':>12}"]
    for label, s, r in rows:
        ratio = f"{s / r:.2f}" if s is not None and r else "-"
        lines.append(f"{label:<26} {fmt(s):>14} {fmt(r):>14} {ratio:>12}")
    table = "\n".join(lines)
    print()
    print(f"medians over {args.rounds} round(s); -c {args.clients}, -r {args.keyspace}, "
          f"-n {args.n_p1} at P1 / {args.n_p16} at P16; memory: "
          + ", ".join(f"{m} {payloads[m][1]} keys" for m in mem_tests))
    print(table)
    for name in servers:
        for e in results[name]["errors"]:
            print(f"ERROR {name}: {e}")

    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    record = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "servers": servers,
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "results": results,
        "medians": summary,
    }
    (out_dir / f"bench-{stamp}.json").write_text(json.dumps(record, indent=2))
    (out_dir / f"bench-{stamp}.txt").write_text(table + "\n")
    print(f"\nraw results: {out_dir / f'bench-{stamp}.json'}")
    # exit non-zero only if the reference failed: a failing shoal is a result
    return 1 if results["redis"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
