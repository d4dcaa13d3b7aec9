"""``httpx.AsyncClient`` under trio (through anyio): keep-alive GETs.

One ``AsyncClient`` whose pool is sized to the worker count
(``max_connections`` and ``max_keepalive_connections`` = WORKERS); each
worker is a trio task doing ``await client.get(url)`` (which reads the body)
in a loop.

Usage: python httpx_trio_client.py URL N WORKERS [TIMEOUT_S]
Prints one JSON line: {"requests": ..., "seconds": ..., "errors": ...}
"""

from __future__ import annotations

import sys

import httpx
from _harness import Budget, main, spawn_workers


async def bench(url: str, budget: Budget, workers: int) -> None:
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(limits=limits) as client:

        async def worker() -> None:
            while budget.take():
                try:
                    res = await client.get(url)
                except Exception as exc:
                    budget.error(exc)
                    continue
                budget.done(res.status_code, res.content)

        await spawn_workers(worker, workers)


if __name__ == "__main__":
    sys.exit(main(bench))
