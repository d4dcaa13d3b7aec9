"""HTTP/1.1 hello-world keep-alive benchmark: trio_nodehttp against its references.

One command, interleaved: for each round, every selected server in turn is
started fresh on a free 127.0.0.1 port, checked to answer the hello-world,
warmed up with a short wrk run, measured with ``wrk -t1 -cC -dDs``, and
stopped (SIGINT, then kill). The table shows the median req/s per server over
the rounds and the ratios that matter for trio_nodehttp.

    python benchmarks/run_http1.py                        # 3 rounds x 10 s, 50 connections
    python benchmarks/run_http1.py --quick --rounds 1     # 3 s runs
    python benchmarks/run_http1.py --only node,h11,hypercorn --json out.json

All traffic goes to 127.0.0.1; every subprocess runs under a timeout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SERVERS_DIR = HERE / "servers"
HOST = "127.0.0.1"
EXPECTED_BODY = b"Hello, world!\n"

START_TIMEOUT = 15.0  # seconds for a server to accept and answer
STOP_TIMEOUT = 5.0  # seconds after SIGINT before the kill


@dataclass(frozen=True)
class Server:
    name: str
    label: str
    argv: tuple[str, ...]  # the port is appended
    aliases: tuple[str, ...] = ()

    def available(self) -> str | None:
        """None if it can run here, else the reason it cannot."""
        exe = self.argv[0]
        if exe != sys.executable and shutil.which(exe) is None:
            return f"{exe!r} not found on PATH"
        module = {"hypercorn": "hypercorn.trio", "trio_nodehttp": "trio_nodehttp.http"}.get(
            self.name
        )
        return import_problem(module)


def import_problem(module: str | None) -> str | None:
    """None if ``module`` imports under this interpreter (or is None), else why not."""
    if module is None:
        return None
    probe = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=REPO,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return f"cannot import {module} ({last})"
    return None


SERVERS: tuple[Server, ...] = (
    Server("node", "node http", ("node", str(SERVERS_DIR / "node_http.js"))),
    Server(
        "trio_nodehttp",
        "trio_nodehttp",
        (sys.executable, str(SERVERS_DIR / "trio_nodehttp_hello.py")),
        aliases=("ours", "nodehttp"),
    ),
    Server(
        "h11",
        "trio+h11 minimal",
        (sys.executable, str(SERVERS_DIR / "trio_h11_minimal.py")),
        aliases=("trio_h11", "trio_h11_minimal", "minimal"),
    ),
    Server(
        "hypercorn",
        "hypercorn-trio",
        (sys.executable, str(SERVERS_DIR / "hypercorn_trio.py")),
        aliases=("hypercorn_trio",),
    ),
)

# (numerator, denominator, target or None)
RATIOS: tuple[tuple[str, str, float | None], ...] = (
    ("trio_nodehttp", "h11", 0.7),
    ("trio_nodehttp", "hypercorn", 3.0),
    ("trio_nodehttp", "node", None),
)


@dataclass
class WrkResult:
    requests_per_sec: float
    requests: int
    non_2xx: int
    socket_errors: dict[str, int]
    latency_avg_ms: float | None
    latency_p99_ms: float | None
    raw: str

    @property
    def clean(self) -> bool:
        return self.non_2xx == 0 and not any(self.socket_errors.values())


@dataclass
class Outcome:
    server: str
    runs: list[WrkResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def median(self) -> float | None:
        if not self.runs:
            return None
        return statistics.median(r.requests_per_sec for r in self.runs)


# --- wrk -----------------------------------------------------------------

_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _to_ms(text: str) -> float | None:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * _UNIT_MS[m.group(2)] if m else None


def parse_wrk(out: str) -> WrkResult:
    m = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    if m is None:
        raise ValueError("no 'Requests/sec' line in wrk output")
    rps = float(m.group(1))
    m = re.search(r"^\s*(\d+) requests in", out, re.M)
    requests = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    non_2xx = int(m.group(1)) if m else 0
    errors: dict[str, int] = {}
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors = dict(
            zip(("connect", "read", "write", "timeout"), map(int, m.groups()), strict=True)
        )
    m = re.search(r"^\s*Latency\s+(\S+)", out, re.M)
    avg = _to_ms(m.group(1)) if m else None
    m = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    p99 = _to_ms(m.group(1)) if m else None
    return WrkResult(rps, requests, non_2xx, errors, avg, p99, out)


def run_wrk(port: int, duration: float, connections: int, threads: int) -> WrkResult:
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        f"http://{HOST}:{port}/",
    ]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk exited {proc.returncode}: {proc.stderr.strip() or proc.stdout}")
    return parse_wrk(proc.stdout)


# --- server processes ------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_env() -> dict[str, str]:
    """The environment for servers: this repository first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


class ServerProcess:
    def __init__(self, server: Server, port: int) -> None:
        self.server = server
        self.port = port
        self.log = tempfile.TemporaryFile()  # closed in stop()
        self.proc = subprocess.Popen(
            [*server.argv, str(port)],
            cwd=REPO,
            env=server_env(),
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self, limit: int = 4000) -> str:
        self.log.seek(0)
        text = self.log.read().decode(errors="replace")
        return text[-limit:]

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until the server accepts and answers the hello-world correctly."""
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"exited with {self.proc.returncode} before accepting:\n{self.output()}"
                )
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                try:
                    conn.request("GET", "/")
                    resp = conn.getresponse()
                    body = resp.read()
                finally:
                    conn.close()
            except OSError as exc:
                last_error = exc
                time.sleep(0.05)
                continue
            if resp.status != 200 or body != EXPECTED_BODY:
                raise RuntimeError(
                    f"answered {resp.status} {body!r}, expected 200 {EXPECTED_BODY!r}"
                )
            return
        raise RuntimeError(f"not accepting after {timeout:g}s ({last_error}):\n{self.output()}")

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGINT)
                try:
                    self.proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=STOP_TIMEOUT)
        finally:
            self.log.close()


def measure(server: Server, args: argparse.Namespace) -> WrkResult:
    proc = ServerProcess(server, free_port())
    try:
        proc.wait_ready()
        if args.warmup > 0:
            run_wrk(proc.port, args.warmup, args.connections, args.threads)
        result = run_wrk(proc.port, args.duration, args.connections, args.threads)
        if proc.proc.poll() is not None:
            raise RuntimeError(f"server died during the run:\n{proc.output()}")
        return result
    finally:
        proc.stop()


# --- reporting -------------------------------------------------------------


def tool_version(argv: list[str]) -> str:
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"
    text = (p.stdout or p.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def environment() -> dict[str, object]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "node": tool_version(["node", "--version"]),
        "wrk": tool_version(["wrk", "--version"]),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
    }


def print_table(outcomes: dict[str, Outcome], selected: list[Server]) -> None:
    print()
    print(f"{'server':<18} {'median req/s':>13} {'runs (req/s)':<32} {'p99 ms':>8}  errors")
    print("-" * 86)
    for server in selected:
        o = outcomes[server.name]
        med = f"{o.median:,.0f}" if o.median is not None else "-"
        runs = ", ".join(f"{r.requests_per_sec:,.0f}" for r in o.runs) or "-"
        p99s = [r.latency_p99_ms for r in o.runs if r.latency_p99_ms is not None]
        p99 = f"{statistics.median(p99s):.2f}" if p99s else "-"
        dirty = sum(not r.clean for r in o.runs)
        errs = f"{dirty} run(s) with errors" if dirty else "none"
        if o.failures:
            errs += f"; {len(o.failures)} failed"
        print(f"{server.label:<18} {med:>13} {runs:<32} {p99:>8}  {errs}")
    print()


def ratios(outcomes: dict[str, Outcome]) -> list[dict[str, object]]:
    labels = {s.name: s.label for s in SERVERS}
    out = []
    for num, den, target in RATIOS:
        a = outcomes.get(num)
        b = outcomes.get(den)
        value = None
        if a and b and a.median is not None and b.median:
            value = a.median / b.median
        out.append(
            {
                "ratio": f"{labels[num]} / {labels[den]}",
                "value": value,
                "target": target,
                "met": None if value is None or target is None else value >= target,
            }
        )
    return out


def print_ratios(rows: list[dict[str, object]], label_key: str | None = None) -> None:
    """One line per ratio, with its verdict against the target (shared with the client run)."""
    for row in rows:
        value = row["value"]
        shown = f"{value:.2f}" if isinstance(value, float) else "n/a"
        target = row["target"]
        verdict = ""
        if target is not None:
            met = row["met"]
            mark = "n/a" if met is None else ("met" if met else "NOT met")
            verdict = f"  (target >= {target:g}: {mark})"
        label = f"{row[label_key]:<11} " if label_key else ""
        print(f"  {label}{row['ratio']:<36} {shown:>6}{verdict}")


T = TypeVar("T")

# --- main ------------------------------------------------------------------


def runnable(items: Sequence[T]) -> list[T]:
    """The items whose ``available()`` finds nothing missing; a line for each skipped one."""
    selected = []
    for item in items:
        reason = item.available()  # type: ignore[attr-defined]
        if reason:
            print(f"skipping {item.label}: {reason}")  # type: ignore[attr-defined]
        else:
            selected.append(item)
    return selected


def select_named(only: str | None, items: Sequence[T], kind: str) -> list[T]:
    """The items named in ``--only`` (names or aliases, comma-separated), in that order."""
    if not only:
        return list(items)
    by_name: dict[str, T] = {}
    for item in items:
        for key in (item.name, *item.aliases):  # type: ignore[attr-defined]
            by_name[key] = item
    chosen: list[T] = []
    for key in (k.strip() for k in only.split(",")):
        if not key:
            continue
        if key not in by_name:
            names = ", ".join(i.name for i in items)  # type: ignore[attr-defined]
            raise SystemExit(f"unknown {kind} {key!r}; choose from {names}")
        if by_name[key] not in chosen:
            chosen.append(by_name[key])
    return chosen


def select(only: str | None) -> list[Server]:
    return select_named(only, SERVERS, "server")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="round-robin rounds (default 3)")
    p.add_argument("--duration", "-d", type=float, default=10.0, help="seconds per run (10)")
    p.add_argument("--quick", action="store_true", help="3 s runs (same as --duration 3)")
    p.add_argument("--connections", "-c", type=int, default=50, help="wrk connections (50)")
    p.add_argument("--threads", "-t", type=int, default=1, help="wrk threads (1)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of wrk before each run (1)")
    p.add_argument("--only", help="comma-separated: node,trio_nodehttp,h11,hypercorn")
    p.add_argument("--json", type=Path, help="write the results to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.duration = 3.0
    if args.rounds < 1 or args.duration <= 0 or args.connections < 1 or args.threads < 1:
        p.error("--rounds, --duration, --connections and --threads must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get install -y wrk", file=sys.stderr)
        return 2
    selected = runnable(select(args.only))
    if not selected:
        print("no server to run", file=sys.stderr)
        return 2

    env = environment()
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration:g}s, "
        f"{args.rounds} round(s), warm-up {args.warmup:g}s; "
        f"python {env['python']}, node {env['node']}, {env['cpus']} CPU(s), no pinning"
    )
    outcomes = {s.name: Outcome(s.name) for s in SERVERS}
    for rnd in range(1, args.rounds + 1):
        for server in selected:
            tag = f"[round {rnd}/{args.rounds}] {server.label:<18}"
            try:
                result = measure(server, args)
            except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired) as exc:
                outcomes[server.name].failures.append(str(exc))
                print(f"{tag} FAILED: {exc}")
                continue
            outcomes[server.name].runs.append(result)
            line = f"{tag} {result.requests_per_sec:>10,.0f} req/s"
            if result.latency_p99_ms is not None:
                line += f"  p99 {result.latency_p99_ms:.2f} ms"
            print(line)
            if not result.clean:
                errs = ", ".join(f"{k} {v}" for k, v in result.socket_errors.items() if v)
                print(f"    non-2xx: {result.non_2xx}; socket errors: {errs or 'none'}")

    print_table(outcomes, selected)
    rows = ratios(outcomes)
    print("ratios (of medians):")
    print_ratios(rows)

    if args.json:
        data = {
            "command": [sys.executable, *sys.argv],
            "settings": {
                "duration_s": args.duration,
                "connections": args.connections,
                "threads": args.threads,
                "rounds": args.rounds,
                "warmup_s": args.warmup,
            },
            "environment": env,
            "servers": {
                s.name: {
                    "label": s.label,
                    "median_rps": outcomes[s.name].median,
                    "runs": [
                        {
                            "requests_per_sec": r.requests_per_sec,
                            "requests": r.requests,
                            "latency_avg_ms": r.latency_avg_ms,
                            "latency_p99_ms": r.latency_p99_ms,
                            "non_2xx": r.non_2xx,
                            "socket_errors": r.socket_errors,
                        }
                        for r in outcomes[s.name].runs
                    ],
                    "failures": outcomes[s.name].failures,
                }
                for s in selected
            },
            "ratios": rows,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
        print(f"\nwrote {args.json}")

    failed = any(outcomes[s.name].failures or not outcomes[s.name].runs for s in selected)
    dirty = any(not r.clean for s in selected for r in outcomes[s.name].runs)
    return 1 if failed or dirty else 0


if __name__ == "__main__":
    sys.exit(main())
