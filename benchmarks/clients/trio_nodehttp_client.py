"""This package's HTTP client: keep-alive GETs through one ``http.Agent``.

One ``http.Agent(keep_alive=True)`` (Node's defaults otherwise: unlimited
``max_sockets``, so each worker ends up with its own pooled connection);
each worker is a trio task doing ``await http.get(url, agent=agent)`` and
``await res.read()`` in a loop.

Usage: python trio_nodehttp_client.py URL N WORKERS [TIMEOUT_S]
Prints one JSON line: {"requests": ..., "seconds": ..., "errors": ...}
"""

from __future__ import annotations

import sys

from _harness import Budget, main, spawn_workers

from trio_nodehttp import http


async def bench(url: str, budget: Budget, workers: int) -> None:
    async with http.Agent(keep_alive=True) as agent:

        async def worker() -> None:
            while budget.take():
                try:
                    res = await http.get(url, agent=agent)
                    body = await res.read()
                except Exception as exc:
                    budget.error(exc)
                    continue
                budget.done(res.status_code, body)

        await spawn_workers(worker, workers)


if __name__ == "__main__":
    sys.exit(main(bench))
