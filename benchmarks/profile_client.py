"""Profile this package's HTTP client in-process while it loads a Node server.

A Node ``http`` hello-world server (``servers/node_http.js``) runs as a
subprocess on a free 127.0.0.1 port; the client runs inside this process:
the same code as ``clients/trio_nodehttp_client.py`` (one
``http.Agent(keep_alive=True)``, ``await http.get(url, agent=agent)`` and
``await res.read()`` per request). After an unprofiled warm-up, N keep-alive
GETs (sequential by default) run under pyinstrument (or cProfile), and the
top of the profile is printed: the functions with the most self time, and the
head of the call tree.

    python benchmarks/profile_client.py                        # 5,000 sequential GETs, pyinstrument
    python benchmarks/profile_client.py -n 20000 --workers 20  # the concurrent mode
    python benchmarks/profile_client.py --target h11           # the minimal trio+h11 client loop
    python benchmarks/profile_client.py --profiler cprofile --sort cumulative
    python benchmarks/profile_client.py --profiler cprofile --cpu-clock   # CPU time only
    python benchmarks/profile_client.py --html /tmp/client.html

Profiling slows the client down (pyinstrument little, cProfile a lot): read
the req/s printed here only as a comparison between profiles, and take the
numbers from run_http1_client.py (``--profiler none`` gives the in-process
figure without a profiler).

Both profilers time with the wall clock by default. On a busy machine the
``send`` that wakes the server is often where the client is preempted, so
``socket.send`` can look expensive; ``--profiler cprofile --cpu-clock``
counts CPU time only.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import trio

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CLIENTS_DIR = HERE / "clients"
HOST = "127.0.0.1"

for _path in (REPO, CLIENTS_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from _harness import Budget  # noqa: E402  (lives in clients/)
from profile_http1 import Recorder, add_profiler_args  # noqa: E402
from run_http1 import Server, ServerProcess, free_port  # noqa: E402

NODE_SERVER = Server("node", "node http", ("node", str(HERE / "servers" / "node_http.js")))

TARGETS = {
    "trio_nodehttp": "trio_nodehttp_client.py",
    "h11": "trio_h11_minimal_client.py",
    "httpx": "httpx_trio_client.py",
}


def load_client(target: str) -> ModuleType:
    path = CLIENTS_DIR / TARGETS[target]
    spec = importlib.util.spec_from_file_location(f"bench_client_{target}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def run_once(client: ModuleType, url: str, total: int, workers: int) -> Budget:
    budget = Budget(total)
    await client.bench(url, budget, workers)
    return budget


def check(budget: Budget, what: str) -> None:
    if budget.ok != budget.total or budget.errors:
        types = dict(budget.error_types.most_common(5))
        raise SystemExit(f"{what}: {budget.ok}/{budget.total} ok, {budget.errors} errors {types}")


class ClientRecorder(Recorder):
    """profile_http1's recorder; ``--cpu-clock`` makes cProfile count CPU time only."""

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args)
        if self.kind == "cprofile" and args.cpu_clock:
            self.profiler = cProfile.Profile(time.process_time)


async def main(args: argparse.Namespace, url: str) -> None:
    client = load_client(args.target)
    recorder = ClientRecorder(args)
    if args.warmup > 0:
        with trio.fail_after(args.timeout):
            check(await run_once(client, url, args.warmup, args.workers), "warm-up")
    recorder.start()
    started = time.perf_counter()
    try:
        with trio.fail_after(args.timeout):
            budget = await run_once(client, url, args.requests, args.workers)
    finally:
        wall = time.perf_counter() - started
        recorder.stop()
    check(budget, "measured run")
    print(
        f"{args.target}: {budget.ok:,} GETs, {args.workers} worker(s), "
        f"{budget.ok / budget.seconds:,.0f} req/s ({budget.seconds:.2f} s requesting, "
        f"{wall:.2f} s with agent set-up and close) under the {args.profiler} profiler\n"
    )
    recorder.report()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", choices=sorted(TARGETS), default="trio_nodehttp")
    p.add_argument("-n", "--requests", type=int, default=5000, help="GETs profiled (5000)")
    p.add_argument("--workers", "-w", type=int, default=1, help="concurrent workers (1)")
    p.add_argument("--warmup", type=int, default=1000, help="unprofiled GETs first (1000)")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per run (300)")
    add_profiler_args(p)
    p.add_argument(
        "--cpu-clock",
        action="store_true",
        help="cProfile: time with the process CPU clock (leaves out preemption on a busy machine)",
    )
    args = p.parse_args(argv)
    if args.requests < 1 or args.workers < 1 or args.warmup < 0 or args.top < 1:
        p.error("-n, --workers and --top must be positive, --warmup not negative")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    reason = NODE_SERVER.available()
    if reason:
        sys.exit(f"the Node server cannot run: {reason}")
    server = ServerProcess(NODE_SERVER, free_port())
    try:
        server.wait_ready()
        print(f"node http listening on {HOST}:{server.port}", flush=True)
        trio.run(main, arguments, f"http://{HOST}:{server.port}/")
    finally:
        server.stop()
