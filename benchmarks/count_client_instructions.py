"""Count the CPU instructions each Python client spends per keep-alive GET.

Wall-clock throughput on a shared two-core machine swings by +-20 % within
minutes; the number of user-mode instructions a client executes does not.
This runs the benchmark's own client files (``clients/*.py``, the same
request loops as ``run_http1_client.py``) under valgrind's cachegrind
against a Node ``http`` server started apart, each twice — with ``--low``
and with ``--high`` requests — and reports the difference divided by the
difference in requests: the instructions of one GET, start-up, imports and
the warm-up cancelled out.

    python benchmarks/count_client_instructions.py                  # trio_nodehttp and h11
    python benchmarks/count_client_instructions.py --only trio_nodehttp --modes concurrent
    python benchmarks/count_client_instructions.py --cache-sim      # also the L1 misses

It needs ``valgrind`` (Debian's package) and ``node``. One client in one mode
takes about half a minute (valgrind runs Python some 50 times slower).
Instructions are not time: the ratio of instruction counts is an upper
bound of what the throughput ratio can reach, which cache misses (see
``--cache-sim``) and the wait for the server then lower.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CLIENTS_DIR = HERE / "clients"
HOST = "127.0.0.1"

sys.path.insert(0, str(HERE))
from run_http1 import Server, ServerProcess, free_port  # noqa: E402

NODE_SERVER = Server("node", "node http", ("node", str(HERE / "servers" / "node_http.js")))
CLIENTS = {
    "trio_nodehttp": CLIENTS_DIR / "trio_nodehttp_client.py",
    "h11": CLIENTS_DIR / "trio_h11_minimal_client.py",
    "httpx": CLIENTS_DIR / "httpx_trio_client.py",
}
MODES = {"sequential": 1, "concurrent": 20}
_COUNTS = {
    "I": r"I\s+refs:\s+([\d,]+)",
    "D1 misses": r"D1\s+misses:\s+([\d,]+)",
    "I1 misses": r"I1\s+misses:\s+([\d,]+)",
}


def count(script: Path, url: str, requests: int, workers: int, cache_sim: bool) -> dict[str, int]:
    """cachegrind's totals for one run of ``script URL requests workers``."""
    cmd = [
        "valgrind",
        "--tool=cachegrind",
        f"--cache-sim={'yes' if cache_sim else 'no'}",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        str(script),
        url,
        str(requests),
        str(workers),
    ]
    env_path = f"{REPO}:{CLIENTS_DIR}"
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "PYTHONPATH": env_path},
    )
    if '"errors": 0' not in proc.stdout:
        raise RuntimeError(f"{script.name} failed:\n{proc.stdout}\n{proc.stderr[-2000:]}")
    found = {}
    for name, pattern in _COUNTS.items():
        m = re.search(pattern, proc.stderr)
        if m:
            found[name] = int(m.group(1).replace(",", ""))
    return found


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", default="trio_nodehttp,h11", help="clients (trio_nodehttp,h11)")
    p.add_argument("--modes", default="sequential,concurrent", help="sequential, concurrent")
    p.add_argument("--low", type=int, default=200, help="requests of the first run (200)")
    p.add_argument("--high", type=int, default=1200, help="requests of the second run (1200)")
    p.add_argument("--cache-sim", action="store_true", help="also count L1 misses (slower)")
    args = p.parse_args()
    if shutil.which("valgrind") is None or shutil.which("node") is None:
        print("valgrind and node are needed", file=sys.stderr)
        return 2
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for name in names:
        if name not in CLIENTS:
            p.error(f"unknown client {name!r}: one of {', '.join(CLIENTS)}")
    for mode in modes:
        if mode not in MODES:
            p.error(f"unknown mode {mode!r}: one of {', '.join(MODES)}")
    if args.high <= args.low:
        p.error("--high must be larger than --low")

    server = ServerProcess(NODE_SERVER, free_port())
    results: dict[tuple[str, str], dict[str, float]] = {}
    try:
        server.wait_ready()
        url = f"http://{HOST}:{server.port}/"
        for mode in modes:
            for name in names:
                low = count(CLIENTS[name], url, args.low, MODES[mode], args.cache_sim)
                high = count(CLIENTS[name], url, args.high, MODES[mode], args.cache_sim)
                per = {k: (high[k] - low[k]) / (args.high - args.low) for k in high}
                results[(name, mode)] = per
                shown = ", ".join(f"{k} {v:,.0f}" for k, v in per.items())
                print(f"{mode:<10} {name:<14} per GET: {shown}", flush=True)
    finally:
        server.stop()
    if "trio_nodehttp" in names and "h11" in names:
        print("\ninstructions, h11 minimal / trio_nodehttp (1.0 = as few as the minimal loop):")
        for mode in modes:
            ours, minimal = results[("trio_nodehttp", mode)], results[("h11", mode)]
            print(f"  {mode:<10} {minimal['I'] / ours['I']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
