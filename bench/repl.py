#!/usr/bin/env python3
"""Replication benchmark: Shoal vs Redis master/replica pairs, alternately (see bench/README.md).

For each round and each server (alternating which goes first), on a fresh pair of
that binary (master and replica, each on an ephemeral loopback port in a temporary
directory, started with `--enable-debug-command yes --save '' --appendonly no
--repl-diskless-sync <mode> --repl-diskless-sync-delay 0`):

1. full sync: the master is filled with `DEBUG POPULATE N key <value size>`, a
   fresh replica is sent `REPLICAOF 127.0.0.1 <master port>`, and the time until
   the replica reports `master_link_status:up`, `master_sync_in_progress:0` and
   DBSIZE N is measured, with the CPU time (utime + stime, children included once
   reaped, from /proc/PID/stat) the master and the replica spent in that window
   and the master's peak PSS (itself and its children: a forked child's shared
   pages count once) sampled every 10 ms. Then DEBUG DIGEST must match on both.
   Once per `--sync-modes` entry (`yes`: diskless, Redis 7.0's default; `no`: the
   master writes an RDB file and sends it), each on a fresh pair.
2. lag under load (on the first mode's pair, in sync): redis-benchmark SET at
   `-P 16` and at `-P 1` against the master. Meanwhile the byte lag (master's
   master_repl_offset minus the replica's slave_repl_offset) is sampled every
   10 ms, and a marker thread writes `SET repl:marker <seq>` on the master every
   10 ms and polls the replica until it reads that value: the time lag from the
   master's reply to the replica serving the write (it includes one replica round
   trip, the resolution). Reported: throughput, median and p99 of both lags, the
   master's and the replica's CPU microseconds per request, and the time the
   replica needs to catch up after the load ends; then the digests must match.

Medians over the rounds are printed with the ratio shoal/redis (`--json`: the
whole record as JSON on stdout instead); raw results go to bench/out/. A pair that
fails to start, sync or catch up within `--timeout` seconds is reported and the
script goes on; it exits non-zero only when Redis fails. Needs redis-server,
redis-cli and redis-benchmark 7.0 on PATH.
"""

import argparse
import csv
import datetime
import io
import json
import os
import pathlib
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
import bench  # noqa: E402  (Server, free_port, machine_info, fmt)
from persist import pss_bytes  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
MARKER = b"repl:marker"
LOG = sys.stdout  # progress; stderr under --json


def say(msg):
    print(msg, file=LOG, flush=True)


class RespError(Exception):
    """An error reply (-ERR ..., -LOADING ...)."""


class Conn:
    """A minimal RESP2 client on one socket: cheaper than a redis-cli per poll."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        self.sock.close()

    def call(self, *args, timeout=None):
        if timeout is not None:
            self.sock.settimeout(max(timeout, 0.01))
        self.sock.sendall(bench.resp(*[a if isinstance(a, bytes) else str(a).encode()
                                       for a in args]))
        reply = self._reply()
        if isinstance(reply, RespError):
            raise reply
        return reply

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            return RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ConnectionError(f"unexpected reply line {line[:80]!r}")

    def info(self, section, timeout=None):
        text = self.call("INFO", section, timeout=timeout).decode(errors="replace")
        return dict(l.split(":", 1) for l in text.splitlines() if ":" in l)


def cpu_seconds(pid, only_children=False):
    """utime + stime of `pid` plus those of its reaped children (cutime + cstime)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17
    return sum(int(x) for x in fields[13 if only_children else 11:15]) / CLK_TCK


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return f.read().split()
    except OSError:
        return []


def vmrss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def pct(values, q):
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * len(s) + 0.5) - 1))]


def wait_children_reaped(pid, deadline):
    """Until the master has no child left (a fork's CPU lands in cutime once reaped)."""
    while children(pid) and time.monotonic() < deadline:
        time.sleep(0.01)


class Pair:
    """A master and a replica of the same binary; the master starts with `keys` keys."""

    def __init__(self, name, binary, diskless, args):
        self.name, self.args = name, args
        extra = ["--enable-debug-command", "yes", "--repl-diskless-sync", diskless,
                 "--repl-diskless-sync-delay", "0", *args.server_args.split()]
        self.master = self.replica = None
        self.conns = []
        try:
            self.master = bench.Server(f"{name}-master", binary, extra)
            self.replica = bench.Server(f"{name}-replica", binary, extra)
            self.m = self.conn(self.master.port)
            self.r = self.conn(self.replica.port)
        except BaseException:
            self.stop()
            raise

    def conn(self, port):
        c = Conn(port, timeout=self.args.timeout)
        self.conns.append(c)
        return c

    def logs(self):
        return (f"\n--- master log tail ---\n{self.master.log_tail()}"
                f"--- replica log tail ---\n{self.replica.log_tail()}")

    def stop(self):
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        for s in (self.replica, self.master):
            if s is not None:
                s.stop()

    def check_alive(self, what):
        for s in (self.master, self.replica):
            if not s.alive():
                raise RuntimeError(f"{s.name} exited ({s.proc.returncode}) {what}{self.logs()}")

    def populate(self):
        n = self.args.keys
        reply = self.m.call("DEBUG", "POPULATE", n, "key", self.args.value_size)
        size = self.m.call("DBSIZE")
        if reply != b"OK" or size != n:
            raise RuntimeError(f"DEBUG POPULATE: {reply!r}, DBSIZE {size}, expected {n}")

    def sync(self):
        """REPLICAOF on the fresh replica; time until it is up, idle and holds every key."""
        n, timeout = self.args.keys, self.args.timeout
        mpid, rpid = self.master.proc.pid, self.replica.proc.pid
        time.sleep(0.5)
        idle_pss = pss_bytes(mpid)
        peak = idle_pss
        mcpu0, rcpu0 = cpu_seconds(mpid), cpu_seconds(rpid)
        mchild0 = cpu_seconds(mpid, only_children=True)
        t0 = time.monotonic()
        deadline = t0 + timeout
        try:
            reply = self.r.call("REPLICAOF", "127.0.0.1", self.master.port)
        except RespError as e:
            reply = f"-{e}"
        if reply != b"OK":
            raise RuntimeError(f"REPLICAOF: {reply!r}")
        state, started = {}, None
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise RuntimeError(
                    f"sync did not finish within {timeout:.0f} s (replica: "
                    f"master_link_status={state.get('master_link_status')}, "
                    f"master_sync_in_progress={state.get('master_sync_in_progress')}, "
                    f"dbsize={state.get('dbsize')}){self.logs()}")
            self.check_alive("during the sync")
            peak = max(peak, pss_bytes(mpid))
            try:
                state = self.r.info("replication", timeout=deadline - now)
                if started is None and state.get("master_sync_in_progress") == "1":
                    started = time.monotonic() - t0
                if (state.get("master_link_status") == "up"
                        and state.get("master_sync_in_progress") == "0"):
                    state["dbsize"] = self.r.call("DBSIZE", timeout=deadline - time.monotonic())
                    if state["dbsize"] == n:
                        break
            except RespError as e:  # -LOADING and the like: not there yet
                state["error"] = str(e)
            except socket.timeout:
                continue  # the deadline check above reports it
            time.sleep(0.01)
        sync_s = time.monotonic() - t0
        wait_children_reaped(mpid, time.monotonic() + 30)
        wait_children_reaped(rpid, time.monotonic() + 30)
        res = {
            "sync_s": sync_s,
            "sync_started_s": started,  # first seen master_sync_in_progress:1 (None: too quick)
            "master_cpu_s": cpu_seconds(mpid) - mcpu0,
            "replica_cpu_s": cpu_seconds(rpid) - rcpu0,
            # the part of master_cpu_s spent in forked children (Redis's RDB child)
            "master_child_cpu_s": cpu_seconds(mpid, only_children=True) - mchild0,
            "master_idle_pss": idle_pss,
            "master_peak_pss": peak,
            "master_peak_over_idle": peak / idle_pss if idle_pss else None,
            "master_rss": vmrss(mpid),
            "replica_rss": vmrss(rpid),
        }
        self.check_digest("after the sync")
        return res

    def offsets(self, timeout):
        """(master_repl_offset of the master, slave_repl_offset of the replica)."""
        m = self.m.info("replication", timeout=timeout)
        r = self.r.info("replication", timeout=timeout)
        return int(m.get("master_repl_offset", -1)), int(r.get("slave_repl_offset", -1))

    def catch_up(self, what):
        """Until the replica has processed everything the master has; seconds taken."""
        t0 = time.monotonic()
        deadline = t0 + self.args.timeout
        mo = ro = None
        while time.monotonic() < deadline:
            self.check_alive(what)
            try:
                mo, ro = self.offsets(deadline - time.monotonic())
            except socket.timeout:
                break
            if mo == ro and mo >= 0:
                return time.monotonic() - t0
            time.sleep(0.01)
        raise RuntimeError(f"replica did not catch up within {self.args.timeout:.0f} s {what} "
                           f"(last offsets: master {mo}, replica {ro}){self.logs()}")

    def check_digest(self, what):
        dm = self.m.call("DEBUG", "DIGEST")
        dr = self.r.call("DEBUG", "DIGEST")
        if dm != dr:
            raise RuntimeError(f"DEBUG DIGEST differs {what}: master {dm!r}, replica {dr!r}")

    def lag(self, pipeline, requests):
        """redis-benchmark SET on the master while sampling byte lag and marker time lag."""
        args = self.args
        mpid, rpid = self.master.proc.pid, self.replica.proc.pid
        stats0 = self.m.info("stats")
        stop = threading.Event()
        marks = {"lags": [], "timeouts": 0, "error": None}
        mconn, rconn = self.conn(self.master.port), self.conn(self.replica.port)
        th = threading.Thread(target=marker, args=(mconn, rconn, stop, marks, args.timeout))
        cmd = ["redis-benchmark", "-h", "127.0.0.1", "-p", str(self.master.port), "-t", "set",
               "-c", str(args.clients), "-P", str(pipeline), "-n", str(requests),
               "-r", str(args.keyspace), "-d", str(args.value_size), "--csv"]
        mcpu0, rcpu0 = cpu_seconds(mpid), cpu_seconds(rpid)
        own0 = sum(os.times()[:2])
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        th.start()
        byte_lags, deadline = [], t0 + args.bench_timeout
        try:
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-benchmark did not finish within "
                                       f"{args.bench_timeout:.0f} s")
                self.check_alive("under the write load")
                mo, ro = self.offsets(args.timeout)
                byte_lags.append(max(0, mo - ro))
                time.sleep(0.01)
            wall = time.monotonic() - t0
            mcpu1, rcpu1 = cpu_seconds(mpid), cpu_seconds(rpid)
            own = sum(os.times()[:2]) - own0
        finally:
            stop.set()
            th.join(timeout=args.timeout + 5)
            if proc.poll() is None:
                proc.kill()
            out, err = proc.communicate()
        text = out.decode(errors="replace")
        if proc.returncode != 0 or "error" in (text + err.decode(errors="replace")).lower():
            raise RuntimeError(f"redis-benchmark failed ({proc.returncode}): {text} {err!r}")
        rows = list(csv.DictReader(io.StringIO(text)))
        if len(rows) != 1:
            raise RuntimeError(f"unexpected redis-benchmark output: {text!r}")
        if marks["error"]:
            raise RuntimeError(f"marker thread: {marks['error']}")
        catch_up = self.catch_up(f"after the P{pipeline} load")
        stats1 = self.m.info("stats")
        self.check_digest(f"after the P{pipeline} load")
        lags = marks["lags"]
        if not lags or not byte_lags:
            raise RuntimeError("no lag sample taken (the load was too short)")
        return {
            "rps": float(rows[0]["rps"]),
            "wall_s": wall,
            "requests": requests,
            "byte_lag_p50": statistics.median(byte_lags),
            "byte_lag_p99": pct(byte_lags, 99),
            "byte_lag_max": max(byte_lags),
            "byte_samples": len(byte_lags),
            "time_lag_p50_ms": statistics.median(lags) * 1000,
            "time_lag_p99_ms": pct(lags, 99) * 1000,
            "time_lag_max_ms": max(lags) * 1000,
            "markers": len(lags),
            "marker_timeouts": marks["timeouts"],
            "master_cpu_us_per_op": (mcpu1 - mcpu0) * 1e6 / requests,
            "replica_cpu_us_per_op": (rcpu1 - rcpu0) * 1e6 / requests,
            "catch_up_s": catch_up,
            # CPU this script spent sampling (its share of the 2 cores is taken from the pair)
            "sampler_cpu_s": own,
            # a replica dropped and resynchronised during the load shows here
            "full_syncs_during": int(stats1.get("sync_full", 0)) - int(stats0.get("sync_full", 0)),
            "partial_syncs_during": (int(stats1.get("sync_partial_ok", 0))
                                     - int(stats0.get("sync_partial_ok", 0))),
            "loadavg_1m": os.getloadavg()[0],
        }


def marker(mconn, rconn, stop, out, timeout):
    """Every 10 ms: SET the marker on the master, then poll the replica until it reads it.

    The lag is from the master's reply (the write is done there) to the replica's
    first reply with the new value; polls are 0.2 ms apart."""
    seq = 0
    try:
        while not stop.is_set():
            seq += 1
            value = b"%d" % seq
            mconn.call("SET", MARKER, value, timeout=timeout)
            t = time.monotonic()
            deadline = t + timeout
            while True:
                if rconn.call("GET", MARKER, timeout=timeout) == value:
                    out["lags"].append(time.monotonic() - t)
                    break
                if time.monotonic() > deadline:
                    out["timeouts"] += 1
                    break
                if stop.is_set():
                    return  # the load is over: a half-measured marker is dropped
                time.sleep(0.0002)
            stop.wait(0.01)
    except Exception as e:  # noqa: BLE001 - reported by the caller
        out["error"] = f"{type(e).__name__}: {e}"


def measure(name, binary, args):
    """One round of one binary: {'sync': {mode: ...}, 'lag': {'P16': ..., 'P1': ...}}."""
    res = {"sync": {}, "lag": {}}
    errors = []
    for i, mode in enumerate(args.sync_modes):
        pair, step = None, "start"
        try:
            pair = Pair(name, binary, mode, args)
            step = "DEBUG POPULATE"
            pair.populate()
            step = "sync"
            r = pair.sync()
            res["sync"][mode] = r
            say(f"  sync diskless={mode}: {r['sync_s']:.3f} s, master cpu "
                f"{r['master_cpu_s']:.2f} s, replica cpu {r['replica_cpu_s']:.2f} s, master "
                f"peak PSS {r['master_peak_pss'] / 2**20:.1f} MiB (idle "
                f"{r['master_idle_pss'] / 2**20:.1f}), replica RSS "
                f"{r['replica_rss'] / 2**20:.1f} MiB")
            if i == 0:
                for p, n in ((16, args.n_p16), (1, args.n_p1)):
                    if not n:
                        continue
                    step = f"lag P{p}"
                    r = pair.lag(p, n)
                    res["lag"][f"P{p}"] = r
                    say(f"  lag P{p}: {r['rps']:,.0f} rps, time lag p50 "
                        f"{r['time_lag_p50_ms']:.2f} ms p99 {r['time_lag_p99_ms']:.2f} ms "
                        f"({r['markers']} markers), byte lag p50 {r['byte_lag_p50']:,.0f} p99 "
                        f"{r['byte_lag_p99']:,.0f}, cpu us/op master "
                        f"{r['master_cpu_us_per_op']:.2f} replica "
                        f"{r['replica_cpu_us_per_op']:.2f}, catch-up {r['catch_up_s']:.3f} s"
                        + (f", {r['full_syncs_during']} full resync(s) during the load!"
                           if r["full_syncs_during"] else ""))
        except Exception as e:  # noqa: BLE001 - report and go on
            msg = f"diskless={mode}: {step}: {type(e).__name__}: {e}"
            say(f"  FAILED: {msg}")
            errors.append(msg)
        finally:
            if pair is not None:
                pair.stop()
    return res, errors


SYNC_METRICS = [("sync_s", "sync s"), ("master_cpu_s", "master cpu s"),
                ("replica_cpu_s", "replica cpu s"), ("master_peak_pss", "master peak PSS"),
                ("master_peak_over_idle", "master peak/idle"), ("replica_rss", "replica RSS")]
LAG_METRICS = [("rps", "rps"), ("time_lag_p50_ms", "time lag p50 ms"),
               ("time_lag_p99_ms", "time lag p99 ms"), ("byte_lag_p50", "byte lag p50"),
               ("byte_lag_p99", "byte lag p99"), ("master_cpu_us_per_op", "master cpu us/op"),
               ("replica_cpu_us_per_op", "replica cpu us/op"), ("catch_up_s", "catch-up s")]


def main():
    global LOG
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shoal", default=str(REPO / os.environ.get("CARGO_TARGET_DIR", "target")
                                         / "release" / "shoal-server"))
    ap.add_argument("--redis", default="/usr/bin/redis-server")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keys", type=int, default=1_000_000, help="keys on the master to sync")
    ap.add_argument("--value-size", type=int, default=16,
                    help="DEBUG POPULATE value size and redis-benchmark -d")
    ap.add_argument("--sync-modes", default="yes",
                    help="comma-separated repl-diskless-sync values, one fresh pair each "
                         "(yes,no: both); the lag runs on the first")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--n-p16", type=int, default=2_000_000,
                    help="requests of the -P 16 lag run (0: skip)")
    ap.add_argument("--n-p1", type=int, default=200_000,
                    help="requests of the -P 1 lag run (0: skip)")
    ap.add_argument("--keyspace", type=int, default=100_000, help="redis-benchmark -r")
    ap.add_argument("--timeout", type=float, default=300,
                    help="seconds a sync, a catch-up or one reply may take before the pair "
                         "is reported as failing")
    ap.add_argument("--bench-timeout", type=float, default=900,
                    help="seconds one redis-benchmark run may take")
    ap.add_argument("--server-args", default="", help="extra arguments for every server")
    ap.add_argument("--json", action="store_true",
                    help="print the whole record as JSON on stdout (progress on stderr)")
    ap.add_argument("--out", default=str(HERE / "out"))
    args = ap.parse_args()
    args.sync_modes = [m for m in args.sync_modes.split(",") if m]
    if not args.sync_modes or any(m not in ("yes", "no") for m in args.sync_modes):
        sys.exit("--sync-modes takes yes and/or no")
    if args.json:
        LOG = sys.stderr
    for tool in ("redis-benchmark", "redis-cli"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} not found: apt-get install redis-tools")
    servers = {"shoal": args.shoal, "redis": args.redis}
    load = os.getloadavg()[0]
    if load > 0.5:
        say(f"warning: load average is {load:.2f} before starting: other work on this machine "
            f"will make the numbers noisy")
    started = datetime.datetime.now()
    results = {name: {"rounds": [], "errors": []} for name in servers}
    for rnd in range(args.rounds):
        order = list(servers) if rnd % 2 == 0 else list(reversed(servers))
        for name in order:
            say(f"round {rnd + 1}/{args.rounds}: {name} ({servers[name]})")
            r, errors = measure(name, servers[name], args)
            results[name]["rounds"].append(r)
            results[name]["errors"] += [f"round {rnd + 1}: {e}" for e in errors]

    def med(name, section, sub, metric):
        vals = [r[section][sub][metric] for r in results[name]["rounds"]
                if sub in r[section] and r[section][sub].get(metric) is not None]
        return statistics.median(vals) if vals else None

    rows, summary = [], {}
    for mode in args.sync_modes:
        for metric, label in SYNC_METRICS:
            key = f"sync diskless={mode} {label}"
            vals = {name: med(name, "sync", mode, metric) for name in servers}
            if metric.endswith("pss") or metric.endswith("rss"):
                vals = {k: v / 2**20 if v is not None else None for k, v in vals.items()}
                key += " MiB"
            summary[key] = vals
            rows.append((key, vals))
    for p in ("P16", "P1"):
        if (p == "P16" and not args.n_p16) or (p == "P1" and not args.n_p1):
            continue
        for metric, label in LAG_METRICS:
            key = f"SET {p} {label}"
            vals = {name: med(name, "lag", p, metric) for name in servers}
            summary[key] = vals
            rows.append((key, vals))
    lines = [f"{'metric':<40} {'redis':>14} {'shoal':>14} {'shoal/redis':>12}"]
    for label, v in rows:
        s, r = v["shoal"], v["redis"]
        ratio = f"{s / r:.2f}" if s is not None and r else "-"
        lines.append(f"{label:<40} {bench.fmt(r):>14} {bench.fmt(s):>14} {ratio:>12}")
    table = "\n".join(lines)
    header = (f"medians over {args.rounds} round(s); {args.keys} keys of {args.value_size} "
              f"bytes; SET load -c {args.clients} -r {args.keyspace}, -n {args.n_p16} at P16 / "
              f"{args.n_p1} at P1")
    record = {
        "started": started.isoformat(timespec="seconds"),
        "machine": bench.machine_info(),
        "servers": servers,
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "json")},
        "results": results,
        "medians": summary,
        "errors": {name: results[name]["errors"] for name in servers},
    }
    out_dir = pathlib.Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    (out_dir / f"repl-{stamp}.json").write_text(json.dumps(record, indent=2))
    (out_dir / f"repl-{stamp}.txt").write_text(header + "\n" + table + "\n")
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print(f"\n{header}\n{table}")
        for name in servers:
            for e in results[name]["errors"]:
                print(f"ERROR {name}: {e.splitlines()[0]}")
    say(f"\nraw results: {out_dir / f'repl-{stamp}.json'}")
    # a failing shoal is a result; a failing redis means the script or machine is wrong
    return 1 if results["redis"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
