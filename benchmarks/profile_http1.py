"""Profile the HTTP/1.1 hello-world server in-process while wrk loads it.

The server runs inside this process (under pyinstrument by default, or
cProfile); ``wrk`` runs as a subprocess against it on 127.0.0.1. After a
warm-up, the profiler records the whole trio thread (every connection task,
trio's scheduler, h11) for the measured run, then the top of the profile is
printed: the functions with the most self time, and the head of the call tree.

    python benchmarks/profile_http1.py                       # trio_nodehttp, 10 s, pyinstrument
    python benchmarks/profile_http1.py -d 5 --top 40
    python benchmarks/profile_http1.py --profiler cprofile --sort cumulative
    python benchmarks/profile_http1.py --target h11          # the trio+h11 minimal reference
    python benchmarks/profile_http1.py --html /tmp/prof.html # full interactive pyinstrument view

Profiling slows the server down (pyinstrument little, cProfile a lot): read
the req/s printed here only as a comparison between profiles, and take the
numbers from run_http1.py.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import io
import pstats
import shutil
import sys
from pathlib import Path
from types import ModuleType

import trio

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
HOST = "127.0.0.1"
BODY = b"Hello, world!\n"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


# The same handler as servers/trio_nodehttp_hello.py (which runs trio.run on
# import, so it is mirrored here rather than imported).
async def handler(req, res):
    res.set_header("Content-Type", "text/plain")
    await res.end(BODY)


async def serve_trio_nodehttp(*, task_status=trio.TASK_STATUS_IGNORED) -> None:
    from trio_nodehttp import http

    # all Node defaults on: timeouts armed, events, header objects
    server = http.create_server(handler)
    async with server:
        await server.listen(0, HOST)
        task_status.started(server.address()["port"])
        await trio.sleep_forever()


def load_minimal() -> ModuleType:
    path = HERE / "servers" / "trio_h11_minimal.py"
    spec = importlib.util.spec_from_file_location("trio_h11_minimal", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def serve_h11_minimal(*, task_status=trio.TASK_STATUS_IGNORED) -> None:
    module = load_minimal()
    listeners = await trio.open_tcp_listeners(0, host=HOST)
    port = listeners[0].socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        await nursery.start(trio.serve_listeners, module.handle, listeners)
        task_status.started(port)


TARGETS = {"trio_nodehttp": serve_trio_nodehttp, "h11": serve_h11_minimal}


async def run_wrk(port: int, duration: float, connections: int) -> str:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{duration:g}s", f"http://{HOST}:{port}/"]
    with trio.fail_after(duration + 30):
        proc = await trio.run_process(argv, capture_stdout=True, capture_stderr=True, check=False)
    out = proc.stdout.decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"wrk exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return out


def flat_profile(root) -> list[tuple[str, float, float]]:
    """(function, self seconds, inclusive seconds) from a pyinstrument frame tree.

    Self time is a frame's time minus that of its real callees; inclusive time
    counts a recursive function once per stack. Sorted by self time.
    """
    from pyinstrument.frame import SELF_TIME_FRAME_IDENTIFIER

    self_time: dict[str, float] = {}
    incl_time: dict[str, float] = {}
    stack = [(root, frozenset())]
    while stack:
        frame, on_path = stack.pop()
        if frame.identifier == SELF_TIME_FRAME_IDENTIFIER:
            continue
        cls = f"{frame.class_name}." if frame.class_name else ""
        label = f"{cls}{frame.function}  {frame.file_path_short}:{frame.line_no}"
        callees = [c for c in frame.children if c.identifier != SELF_TIME_FRAME_IDENTIFIER]
        self_time[label] = self_time.get(label, 0.0) + frame.time - sum(c.time for c in callees)
        if label not in on_path:
            incl_time[label] = incl_time.get(label, 0.0) + frame.time
        path = on_path | {label}
        stack.extend((c, path) for c in callees)
    rows = [(label, t, incl_time.get(label, 0.0)) for label, t in self_time.items()]
    rows.sort(key=lambda row: row[1], reverse=True)
    return rows


class Recorder:
    """Starts and stops the chosen profiler and prints its report."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.kind = args.profiler
        if self.kind == "pyinstrument":
            from pyinstrument import Profiler

            # async_mode="disabled": sample the whole thread, i.e. every task.
            self.profiler = Profiler(interval=args.interval, async_mode="disabled")
        elif self.kind == "cprofile":
            self.profiler = cProfile.Profile()
        else:
            self.profiler = None

    def start(self) -> None:
        if self.kind == "pyinstrument":
            self.profiler.start()
        elif self.kind == "cprofile":
            self.profiler.enable()

    def stop(self) -> None:
        if self.kind == "pyinstrument":
            self.profiler.stop()
        elif self.kind == "cprofile":
            self.profiler.disable()

    def report(self) -> None:
        args = self.args
        if self.kind == "pyinstrument":
            session = self.profiler.last_session
            print(
                f"== top {args.top} functions by self time (pyinstrument: "
                f"{session.sample_count} samples, {session.duration:.2f} s wall, "
                f"{session.cpu_time:.2f} s CPU) =="
            )
            print(f"{'self s':>8} {'self %':>7} {'incl s':>8}  function")
            rows = flat_profile(self.profiler.last_session.root_frame())
            total = session.duration or 1.0
            for label, self_s, incl_s in rows[: args.top]:
                print(f"{self_s:8.3f} {100 * self_s / total:6.1f}% {incl_s:8.3f}  {label}")
            print()
            tree = self.profiler.output_text(unicode=True, color=False, show_all=args.show_all)
            print(f"== call tree (first {args.tree_lines} lines) ==")
            print("\n".join(tree.splitlines()[: args.tree_lines]))
            if args.html:
                args.html.write_text(self.profiler.output_html())
                print(f"wrote {args.html}")
        elif self.kind == "cprofile":
            buf = io.StringIO()
            stats = pstats.Stats(self.profiler, stream=buf)
            stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
            print(f"== top {args.top} functions by {args.sort} (cProfile) ==")
            print(buf.getvalue())
            if args.pstats:
                self.profiler.dump_stats(str(args.pstats))
                print(f"wrote {args.pstats}")


async def main(args: argparse.Namespace) -> None:
    recorder = Recorder(args)
    async with trio.open_nursery() as nursery:
        port = await nursery.start(TARGETS[args.target])
        print(f"{args.target} listening on {HOST}:{port}", flush=True)
        if args.warmup > 0:
            await run_wrk(port, args.warmup, args.connections)
        recorder.start()
        try:
            out = await run_wrk(port, args.duration, args.connections)
        finally:
            recorder.stop()
        nursery.cancel_scope.cancel()
    print(out.rstrip())
    print(f"(req/s above are under the {args.profiler} profiler)\n")
    recorder.report()


def add_profiler_args(p: argparse.ArgumentParser) -> None:
    """The profiler and report options (shared with profile_client.py)."""
    default_profiler = "pyinstrument" if importlib.util.find_spec("pyinstrument") else "cprofile"
    p.add_argument(
        "--profiler",
        choices=("pyinstrument", "cprofile", "none"),
        default=default_profiler,
        help=f"default {default_profiler}; 'none' gives the in-process req/s without a profiler",
    )
    p.add_argument("--interval", type=float, default=0.001, help="pyinstrument sampling (s)")
    p.add_argument("--top", type=int, default=30, help="functions listed (30)")
    p.add_argument("--tree-lines", type=int, default=60, help="call-tree lines printed (60)")
    p.add_argument("--show-all", action="store_true", help="call tree: do not fold library frames")
    p.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative, ...)")
    p.add_argument("--html", type=Path, help="pyinstrument: also write the HTML report here")
    p.add_argument("--pstats", type=Path, help="cProfile: also dump the stats file here")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", choices=sorted(TARGETS), default="trio_nodehttp")
    p.add_argument("--duration", "-d", type=float, default=10.0, help="seconds profiled (10)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of unprofiled load (1)")
    p.add_argument("--connections", "-c", type=int, default=50, help="wrk connections (50)")
    add_profiler_args(p)
    args = p.parse_args(argv)
    if args.duration <= 0 or args.connections < 1 or args.top < 1:
        p.error("--duration, --connections and --top must be positive")
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk")
    if arguments.target == "trio_nodehttp":
        try:
            import trio_nodehttp.http  # noqa: F401
        except ImportError as exc:
            sys.exit(f"cannot import trio_nodehttp.http ({exc}); try --target h11")
    trio.run(main, arguments)
