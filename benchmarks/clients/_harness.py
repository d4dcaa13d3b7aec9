"""The shared frame of the Python benchmark clients (not a client itself).

Each client script defines ``async def bench(url, budget, workers)`` that
starts ``workers`` trio tasks; each task takes requests from the shared
``Budget`` until it is spent, does one keep-alive GET per request, and
reports the outcome with ``budget.done(status, body)`` or
``budget.error(exc)``. This module parses ``URL N WORKERS [TIMEOUT]``, runs
``bench`` under a watchdog, and prints the one JSON line the runner reads:

    {"requests": N_ok, "seconds": t, "errors": k, ...}

``seconds`` runs from the first request taken to the last one finished, so
the start-up of the process, the imports and the construction and closing of
the client are not in it. Only responses ``200`` with the exact hello-world
body count in ``requests``; anything else (another status, another body, an
exception) counts in ``errors``; the first few tracebacks go to stderr.

If the run is not finished after TIMEOUT seconds (default 120), the watchdog
prints every trio task's await stack to stderr, cancels the run and reports
``"timed_out": true``: a hang shows where each worker is stuck.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable

import trio

EXPECTED_STATUS = 200
EXPECTED_BODY = b"Hello, world!\n"
MAX_TRACEBACKS = 3

Bench = Callable[[str, "Budget", int], Awaitable[None]]


class Budget:
    """N requests shared by the workers, and what became of them."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.remaining = total
        self.ok = 0
        self.errors = 0
        self.error_types: Counter[str] = Counter()
        self.started: float | None = None
        self.finished: float | None = None

    def take(self) -> bool:
        """Claim one request; False once all N are claimed."""
        if self.remaining <= 0:
            return False
        if self.started is None:
            self.started = time.perf_counter()
        self.remaining -= 1
        return True

    def done(self, status: int | None, body: bytes) -> None:
        if status == EXPECTED_STATUS and body == EXPECTED_BODY:
            self.ok += 1
            self.finished = time.perf_counter()
        else:
            self._fail(f"status {status} body {body[:40]!r}")

    def error(self, exc: BaseException) -> None:
        if self.errors < MAX_TRACEBACKS:
            print(f"request failed ({self.ok} ok before it):", file=sys.stderr)
            traceback.print_exception(exc, file=sys.stderr)
        self._fail(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}"[:200])

    def _fail(self, what: str) -> None:
        self.errors += 1
        self.error_types[what] += 1
        self.finished = time.perf_counter()

    @property
    def seconds(self) -> float:
        if self.started is None or self.finished is None:
            return 0.0
        return self.finished - self.started


def dump_task_stacks(file=sys.stderr) -> None:
    """Print the await stack of every trio task (for a hang), without trio's core frames."""

    def walk(task: trio.lowlevel.Task, depth: int) -> None:
        pad = "  " * depth
        print(f"{pad}task {task.name}", file=file)
        for frame, lineno in task.iter_await_frames():
            code = frame.f_code
            if "/trio/_core/" in code.co_filename:
                continue  # the scheduler's own frames say nothing about the hang
            print(f"{pad}  {code.co_filename}:{lineno} in {code.co_name}", file=file)
        for nursery in task.child_nurseries:
            for child in nursery.child_tasks:
                walk(child, depth + 1)

    walk(trio.lowlevel.current_root_task(), 0)


async def run(bench: Bench, url: str, total: int, workers: int, timeout: float) -> dict:
    budget = Budget(total)
    timed_out = False

    async def watchdog(cancel_scope: trio.CancelScope) -> None:
        nonlocal timed_out
        await trio.sleep(timeout)
        timed_out = True
        print(
            f"watchdog: not done after {timeout:g}s "
            f"({budget.ok} ok, {budget.errors} errors, {budget.remaining} not started); "
            "task stacks:",
            file=sys.stderr,
        )
        dump_task_stacks()
        cancel_scope.cancel()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(watchdog, nursery.cancel_scope)
        await bench(url, budget, workers)
        nursery.cancel_scope.cancel()

    result: dict[str, object] = {
        "requests": budget.ok,
        "seconds": round(budget.seconds, 6),
        "errors": budget.errors,
    }
    if budget.error_types:
        result["error_types"] = dict(budget.error_types.most_common(10))
    unfinished = budget.total - budget.ok - budget.errors
    if unfinished:
        result["unfinished"] = unfinished
    if timed_out:
        result["timed_out"] = True
    return result


async def spawn_workers(worker: Callable[[], Awaitable[None]], workers: int) -> None:
    """Run ``workers`` copies of ``worker`` as trio tasks and wait for all."""
    async with trio.open_nursery() as nursery:
        for _ in range(workers):
            nursery.start_soon(worker)


def main(bench: Bench, argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (3, 4):
        print(f"usage: {sys.argv[0]} URL N WORKERS [TIMEOUT_S]", file=sys.stderr)
        return 2
    url, total, workers = args[0], int(args[1]), int(args[2])
    timeout = float(args[3]) if len(args) == 4 else 120.0
    if total < 1 or workers < 1 or timeout <= 0:
        print("N, WORKERS and TIMEOUT_S must be positive", file=sys.stderr)
        return 2
    result = trio.run(run, bench, url, total, workers, timeout)
    print(json.dumps(result), flush=True)
    clean = result["requests"] == total and not result["errors"]
    return 0 if clean else 1
