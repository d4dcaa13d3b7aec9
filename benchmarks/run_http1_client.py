"""HTTP/1.1 keep-alive client benchmark: trio_nodehttp's client against its references.

One command, interleaved: in each round a fresh Node ``http`` hello-world
server (``servers/node_http.js``) is started on a free 127.0.0.1 port and
warmed up; then, for each mode (sequential: one worker; concurrent: 20
workers) every selected client in turn (the order reversed every other
round) runs N keep-alive GETs against it as
a subprocess, and prints ``{"requests", "seconds", "errors"}`` measured
inside the client. The runner checks that all N requests succeeded, and
prints the median req/s per client and mode over the rounds, and the ratios
that matter for trio_nodehttp.

    python benchmarks/run_http1_client.py                     # 5 rounds x 20,000 GETs, 1 and 20
    python benchmarks/run_http1_client.py --quick --rounds 1  # 3,000 GETs
    python benchmarks/run_http1_client.py --only trio_nodehttp,h11 --json out.json

All traffic goes to 127.0.0.1; every subprocess runs under a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from run_http1 import Server as ServerSpec
from run_http1 import (
    ServerProcess,
    free_port,
    import_problem,
    print_ratios,
    runnable,
    select_named,
    server_env,
    tool_version,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CLIENTS_DIR = HERE / "clients"
HOST = "127.0.0.1"

NODE_SERVER = ServerSpec("node", "node http", ("node", str(HERE / "servers" / "node_http.js")))
STDERR_SHOWN = 6000  # characters of a failed client's stderr that are printed
KILL_GRACE = 15.0  # seconds past the client's own watchdog before the runner kills it


@dataclass(frozen=True)
class Client:
    name: str
    label: str
    argv: tuple[str, ...]  # URL, N, WORKERS and TIMEOUT_S are appended
    module: str | None = None  # a Python module the client needs
    aliases: tuple[str, ...] = ()

    def available(self) -> str | None:
        """None if it can run here, else the reason it cannot."""
        exe = self.argv[0]
        if exe != sys.executable and tool_version([exe, "--version"]) == "unavailable":
            return f"{exe!r} not found on PATH"
        return import_problem(self.module)


CLIENTS: tuple[Client, ...] = (
    Client("node", "node http", ("node", str(CLIENTS_DIR / "node_client.js"))),
    Client(
        "trio_nodehttp",
        "trio_nodehttp",
        (sys.executable, str(CLIENTS_DIR / "trio_nodehttp_client.py")),
        module="trio_nodehttp.http",
        aliases=("ours", "nodehttp"),
    ),
    Client(
        "h11",
        "trio+h11 minimal",
        (sys.executable, str(CLIENTS_DIR / "trio_h11_minimal_client.py")),
        module="h11",
        aliases=("trio_h11", "trio_h11_minimal", "minimal"),
    ),
    Client(
        "httpx",
        "httpx-on-trio",
        (sys.executable, str(CLIENTS_DIR / "httpx_trio_client.py")),
        module="httpx",
        aliases=("httpx_trio",),
    ),
)

# (numerator, denominator, target or None), applied in each mode
RATIOS: tuple[tuple[str, str, float | None], ...] = (
    ("trio_nodehttp", "h11", 0.7),
    ("trio_nodehttp", "httpx", None),
    ("trio_nodehttp", "node", None),
)


@dataclass(frozen=True)
class Mode:
    name: str
    workers: int

    @property
    def label(self) -> str:
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"


@dataclass
class ClientResult:
    requests: int
    seconds: float
    errors: int
    raw: dict

    @property
    def requests_per_sec(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Outcome:
    client: str
    mode: str
    runs: list[ClientResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    #: round number -> req/s of that round's run (for the paired ratios)
    by_round: dict[int, float] = field(default_factory=dict)

    @property
    def median(self) -> float | None:
        if not self.runs:
            return None
        return statistics.median(r.requests_per_sec for r in self.runs)


def paired_median(a: Outcome, b: Outcome) -> float | None:
    """The median over the rounds both ran of a's req/s over b's in the same round.

    Both runs of a round are minutes apart at most, so a slow stretch of the
    machine that spans a round weighs on both sides of its ratio; the ratio of
    the medians pairs a client's median round with another round of the other.
    """
    rounds = sorted(set(a.by_round) & set(b.by_round))
    values = [a.by_round[r] / b.by_round[r] for r in rounds if b.by_round[r]]
    return statistics.median(values) if values else None


# --- running a client ------------------------------------------------------


def run_client(client: Client, url: str, total: int, workers: int, timeout: float) -> ClientResult:
    """Run one client subprocess; its result, or RuntimeError if not all N succeeded."""
    argv = [*client.argv, url, str(total), str(workers), f"{timeout:g}"]
    try:
        proc = subprocess.run(
            argv,
            cwd=REPO,
            env=server_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout + KILL_GRACE,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        err = (
            exc.stderr
            if isinstance(exc.stderr, str)
            else (exc.stderr or b"").decode(errors="replace")
        )
        raise RuntimeError(
            f"killed after {timeout + KILL_GRACE:g}s (its watchdog did not end it):\n"
            f"{err[:STDERR_SHOWN]}"
        ) from None
    result = None
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            result = json.loads(line)
        except ValueError:
            continue
        break
    stderr = proc.stderr.strip()
    # the head: the watchdog's note and stacks, or the first tracebacks
    stderr_head = stderr[:STDERR_SHOWN] + (
        "\n[... stderr cut]" if len(stderr) > STDERR_SHOWN else ""
    )
    if not isinstance(result, dict) or not {"requests", "seconds", "errors"} <= result.keys():
        raise RuntimeError(
            f"exited {proc.returncode} without a result line:\n"
            f"{proc.stdout.strip()[-2000:]}\n{stderr_head}"
        )
    res = ClientResult(
        int(result["requests"]), float(result["seconds"]), int(result["errors"]), result
    )
    if res.requests != total or res.errors or result.get("timed_out") or proc.returncode != 0:
        details = {k: v for k, v in result.items() if k not in ("requests", "seconds", "errors")}
        raise RuntimeError(
            f"{res.requests}/{total} ok, {res.errors} errors, exit {proc.returncode}"
            f"{', ' + json.dumps(details) if details else ''}"
            f"{chr(10) + stderr_head if stderr_head else ''}"
        )
    if res.seconds <= 0:
        raise RuntimeError(f"reported a non-positive time: {result}")
    return res


def warm_up(url: str, total: int, workers: int, timeout: float) -> None:
    """Unmeasured load before the round: Node's server JIT-compiles its hot path."""
    if total <= 0:
        return
    run_client(CLIENTS[0], url, total, workers, timeout)


# --- reporting -------------------------------------------------------------


def environment() -> dict[str, object]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "node": tool_version(["node", "--version"]),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
    }


def print_table(outcomes: dict[tuple[str, str], Outcome], selected: list[Client], modes) -> None:
    print()
    print(f"{'mode':<24} {'client':<18} {'median req/s':>13}  {'runs (req/s)':<30} errors")
    print("-" * 96)
    for mode in modes:
        for client in selected:
            o = outcomes[(client.name, mode.name)]
            med = f"{o.median:,.0f}" if o.median is not None else "-"
            runs = ", ".join(f"{r.requests_per_sec:,.0f}" for r in o.runs) or "-"
            errs = f"{len(o.failures)} failed run(s)" if o.failures else "none"
            print(f"{mode.label:<24} {client.label:<18} {med:>13}  {runs:<30} {errs}")
    print()


def ratios(outcomes: dict[tuple[str, str], Outcome], modes) -> list[dict[str, object]]:
    labels = {c.name: c.label for c in CLIENTS}
    out = []
    for mode in modes:
        for num, den, target in RATIOS:
            a = outcomes.get((num, mode.name))
            b = outcomes.get((den, mode.name))
            value = paired = None
            if a and b and a.median is not None and b.median:
                value = a.median / b.median
                paired = paired_median(a, b)
            out.append(
                {
                    "mode": mode.name,
                    "workers": mode.workers,
                    "ratio": f"{labels[num]} / {labels[den]}",
                    "value": value,
                    "paired": paired,
                    "target": target,
                    "met": None if value is None or target is None else value >= target,
                }
            )
    return out


def _met(row: dict[str, object]) -> bool | None:
    value, target = row["paired"], row["target"]
    if not isinstance(value, float) or not isinstance(target, float):
        return None
    return value >= target


# --- main ------------------------------------------------------------------


def select(only: str | None) -> list[Client]:
    return select_named(only, CLIENTS, "client")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="round-robin rounds (default 5)")
    p.add_argument("-n", "--requests", type=int, default=20_000, help="GETs per run (20000)")
    p.add_argument("--quick", action="store_true", help="3,000 GETs per run (same as -n 3000)")
    p.add_argument("--workers", "-w", type=int, default=20, help="concurrent mode workers (20)")
    p.add_argument(
        "--modes",
        default="sequential,concurrent",
        help="comma-separated: sequential (1 worker), concurrent (--workers)",
    )
    p.add_argument(
        "--warmup", type=int, default=2000, help="unmeasured GETs (node client) per round (2000)"
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds a client run may take before its watchdog stops it "
        "(default 60 + N/200, i.e. 160 s for 20,000)",
    )
    p.add_argument("--only", help="comma-separated: node,trio_nodehttp,h11,httpx")
    p.add_argument("--json", type=Path, help="write the results to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.requests = 3000
    if args.rounds < 1 or args.requests < 1 or args.workers < 1 or args.warmup < 0:
        p.error("--rounds, -n and --workers must be positive, --warmup not negative")
    if args.timeout is None:
        args.timeout = 60.0 + args.requests / 200
    modes = []
    for key in (k.strip() for k in args.modes.split(",")):
        if key in ("sequential", "seq"):
            modes.append(Mode("sequential", 1))
        elif key in ("concurrent", "conc"):
            modes.append(Mode("concurrent", args.workers))
        elif key:
            p.error(f"unknown mode {key!r}; choose from sequential, concurrent")
    if not modes:
        p.error("no mode selected")
    args.mode_list = modes
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    modes: list[Mode] = args.mode_list
    reason = NODE_SERVER.available()
    if reason:
        print(f"the Node server cannot run: {reason}", file=sys.stderr)
        return 2
    selected = runnable(select(args.only))
    if not selected:
        print("no client to run", file=sys.stderr)
        return 2

    env = environment()
    print(
        f"{args.requests:,} keep-alive GETs per run against node http; modes: "
        f"{', '.join(m.label for m in modes)}; {args.rounds} round(s), "
        f"warm-up {args.warmup:,} GETs per round; "
        f"python {env['python']}, node {env['node']}, {env['cpus']} CPU(s), no pinning"
    )
    outcomes = {(c.name, m.name): Outcome(c.name, m.name) for c in CLIENTS for m in modes}
    server_failures: list[str] = []
    started = time.monotonic()
    for rnd in range(1, args.rounds + 1):
        server = ServerProcess(NODE_SERVER, free_port())
        try:
            try:
                server.wait_ready()
                url = f"http://{HOST}:{server.port}/"
                warm_up(url, args.warmup, args.workers, args.timeout)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                server_failures.append(f"round {rnd}: {exc}")
                print(f"[round {rnd}/{args.rounds}] server FAILED: {exc}")
                continue
            # The order of the clients alternates from round to round, so that a drift of
            # the machine's speed during a round (seen here: +-20 % within minutes on a
            # shared 2-core VM) does not always favour the same client.
            order = selected if rnd % 2 else selected[::-1]
            for mode, client in [(m, c) for m in modes for c in order]:
                if server.proc.poll() is not None:
                    server_failures.append(f"round {rnd}: the Node server died:\n{server.output()}")
                    print(f"[round {rnd}/{args.rounds}] the Node server died; round abandoned")
                    break
                tag = f"[round {rnd}/{args.rounds}] {mode.name:<10} {client.label:<18}"
                outcome = outcomes[(client.name, mode.name)]
                try:
                    result = run_client(client, url, args.requests, mode.workers, args.timeout)
                except (RuntimeError, OSError) as exc:
                    outcome.failures.append(str(exc))
                    print(f"{tag} FAILED: {exc}")
                else:
                    outcome.runs.append(result)
                    outcome.by_round[rnd] = result.requests_per_sec
                    print(
                        f"{tag} {result.requests_per_sec:>10,.0f} req/s  "
                        f"({result.requests:,} in {result.seconds:.2f} s)"
                    )
        finally:
            server.stop()
    elapsed = time.monotonic() - started

    print_table(outcomes, selected, modes)
    rows = ratios(outcomes, modes)
    print("ratios (of medians):")
    print_ratios(rows, "mode")
    print("ratios (median over the rounds of the ratio within each round):")
    print_ratios([{**row, "value": row["paired"], "met": _met(row)} for row in rows], "mode")
    print(f"\n(total {elapsed:.0f} s)")

    if args.json:
        data = {
            "command": [sys.executable, *sys.argv],
            "settings": {
                "requests": args.requests,
                "rounds": args.rounds,
                "modes": {m.name: m.workers for m in modes},
                "warmup_requests": args.warmup,
                "timeout_s": args.timeout,
                "server": "node http (benchmarks/servers/node_http.js)",
            },
            "environment": env,
            "clients": {
                c.name: {
                    "label": c.label,
                    "modes": {
                        m.name: {
                            "workers": m.workers,
                            "median_rps": outcomes[(c.name, m.name)].median,
                            "runs": [
                                {"requests_per_sec": r.requests_per_sec, **r.raw}
                                for r in outcomes[(c.name, m.name)].runs
                            ],
                            "failures": outcomes[(c.name, m.name)].failures,
                        }
                        for m in modes
                    },
                }
                for c in selected
            },
            "ratios": rows,
            "server_failures": server_failures,
            "elapsed_s": elapsed,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {args.json}")

    ran = [outcomes[(c.name, m.name)] for c in selected for m in modes]
    failed = server_failures or any(o.failures or not o.runs for o in ran)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
