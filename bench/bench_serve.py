"""Load test of `eligibility serve` on loopback: many concurrent clients for a fixed time.

Starts the server on a free loopback port, warms it up (each policy once, then one request per
client at once, so that the server's threads are all started), then runs ``--clients`` concurrent
clients (default 50) for ``--duration`` seconds (default 20). Each client sends, in a loop, the
requests of the intake page and of a case-management system: ``POST /v1/evaluate`` (a case from a
varied pool: nationalities, dates, borders), ``POST /v1/ask`` (a partial intake), ``GET /``, and
``GET /v1/policies``. Alongside, ``--hostile`` clients (default 4) send malformed JSON, bodies
over the limit (declared, and chunked without a length), and JSON nested 100,000 deep: each must
be refused (413 or 4xx) without harming the others.

Prints requests/s, p50/p90/p99/max latency per kind of request, the server's resident memory
after the warm-up, half-way and at the end, and the errors. Exits 1 when a normal request fails
(a status other than 200, or no answer), a hostile one is not refused with a 4xx, or memory grows
by more than ``--max-growth-mb`` (default 25) over the second half of the run.

    python bench/bench_serve.py [--clients 50] [--duration 20] [--hostile 4] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx

NATIONALITIES = ["HN", "SV", "GT", "MX", "VE", "CU", "NI", "EC", "CO", "HT", "IN", "CN"]
BORDERS = ["southern_land", "air", "northern_land", "sea"]
DATES = ["2019-07-20", "2019-12-01", "2020-01-15", "2020-02-20", "2020-06-01", "2021-03-01",
         "2023-06-01", "2024-07-01", "2025-03-01"]


@functools.cache
def cases(seed: int = 7) -> list[dict[str, Any]]:
    """A pool of varied, valid cases (the server keeps no answers: each request is evaluated)."""
    import eligibility

    rng = random.Random(seed)
    pool = []
    for n in range(400):
        case: dict[str, Any] = {
            "id": f"load-{n}",
            "nationalities": [rng.choice(NATIONALITIES)],
            "age": rng.choice([8, 16, 25, 30, 44, 61]),
            "entry": {"date": rng.choice(DATES), "border": rng.choice(BORDERS),
                      "place": rng.choice(["port_of_entry", "between_ports"])},
        }
        if rng.random() < 0.6:
            case["transit"] = rng.sample(["GT", "MX", "PA", "CO"], k=rng.randint(0, 2))
        if rng.random() < 0.3:
            case["unaccompanied"] = rng.random() < 0.5
        try:
            eligibility.parse_case(case)
        except eligibility.CaseError:  # e.g. between ports by air
            continue
        pool.append(case)
    return pool


INTAKES = [
    [{"field": "entry.date", "answer": "2019-12-01"}],
    [{"field": "entry.date", "answer": "2019-12-01"}, {"field": "nationalities", "answer": "HN"}],
    [{"field": "entry.date", "answer": "2020-01"}, {"field": "nationalities", "answer": "SV"},
     {"field": "decision_date", "answer": ""}, {"field": "age", "answer": "30"}],
]


def rss_mb(pid: int) -> float:
    """The resident memory of a process (Linux /proc), in MB; 0 where unknown."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextlib.contextmanager
def server(max_body: int) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    script = Path(sys.executable).parent / "eligibility"  # the console script, as a user runs it
    start = [str(script), "serve"] if script.exists() else [sys.executable, "-m", "eligibility_cli.serve"]
    command = [*start, "--port", "0", "--max-body", str(max_body)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if "http://" not in line:
            sys.exit(f"bench_serve: the server did not start: {line!r}")
        yield line.split()[2].rstrip("/"), process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class Tally:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []
        self.refused: dict[str, int] = defaultdict(int)


async def normal_client(client: httpx.AsyncClient, stop: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    pool = cases()
    kinds = ["evaluate"] * 5 + ["ask"] * 2 + ["page"] * 2 + ["policies"]
    while time.perf_counter() < stop:
        kind = rng.choice(kinds)
        started = time.perf_counter()
        try:
            if kind == "evaluate":
                response = await client.post("/v1/evaluate", json={"case": rng.choice(pool)})
            elif kind == "ask":
                response = await client.post("/v1/ask", json={"answers": rng.choice(INTAKES)})
            elif kind == "page":
                response = await client.get("/")
            else:
                response = await client.get("/v1/policies")
        except httpx.HTTPError as exc:
            tally.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
            continue
        tally.latency[kind].append(time.perf_counter() - started)
        if response.status_code != 200:
            tally.errors.append(f"{kind}: HTTP {response.status_code}: {response.text[:200]}")


async def hostile_client(client: httpx.AsyncClient, stop: float, tally: Tally, max_body: int, seed: int) -> None:
    rng = random.Random(seed)
    big = b'{"case": {"id": "' + b"x" * (max_body + 1) + b'"}}'

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(max_body // 65536 + 2):
            yield b"y" * 65536

    attacks = {
        "malformed JSON": lambda: client.post("/v1/evaluate", content=b'{"case": {"entry": ',
                                              headers={"content-type": "application/json"}),
        "declared oversize": lambda: client.post("/v1/evaluate", content=big,
                                                 headers={"content-type": "application/json"}),
        "chunked oversize": lambda: client.post("/v1/evaluate", content=chunked(),
                                                headers={"content-type": "application/json"}),
        "nested 100,000 deep": lambda: client.post(
            "/v1/evaluate", content=b'{"case": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            headers={"content-type": "application/json"}),
        "bad case": lambda: client.post("/v1/evaluate", json={"case": {"entry": {"date": "2019-02-30"}}}),
    }
    names = list(attacks)
    while time.perf_counter() < stop:
        name = rng.choice(names)
        try:
            response = await attacks[name]()
        except httpx.HTTPError as exc:
            # a server may close the connection on a body it refused before reading it all
            if "oversize" in name:
                tally.refused[name] += 1
                continue
            tally.errors.append(f"hostile {name}: {type(exc).__name__}: {exc}")
            continue
        if 400 <= response.status_code < 500 and "Traceback" not in response.text:
            tally.refused[name] += 1
        else:
            tally.errors.append(f"hostile {name}: HTTP {response.status_code}")
        await asyncio.sleep(0.05)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(args: argparse.Namespace, url: str, pid: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.clients + args.hostile + 10)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        for case in cases()[:20]:  # warm-up: compile each policy's programs once
            await client.post("/v1/evaluate", json={"case": case})
        for answers in INTAKES:
            await client.post("/v1/ask", json={"answers": answers})
        # then as many requests at once as there are clients: the server's worker threads (and
        # the allocator's per-thread arenas) grow to what the load needs before memory is measured,
        # so that the growth over the second half is what a leak would add, however slow the machine
        await asyncio.gather(
            *(client.post("/v1/evaluate", json={"case": case}) for case in cases()[: args.clients])
        )
        memory = {"after warm-up": rss_mb(pid)}
        tally = Tally()
        started = time.perf_counter()
        stop = started + args.duration

        async def halfway() -> None:
            for quarter in (1, 2, 3):  # the second half is what must stay flat
                await asyncio.sleep(args.duration / 4)
                memory[("a quarter", "half-way", "three quarters")[quarter - 1]] = rss_mb(pid)

        await asyncio.gather(
            halfway(),
            *(normal_client(client, stop, tally, seed) for seed in range(args.clients)),
            *(hostile_client(client, stop, tally, args.max_body, 1000 + s) for s in range(args.hostile)),
        )
        elapsed = time.perf_counter() - started
        memory["end"] = rss_mb(pid)
        still = await client.post("/v1/evaluate", json={"case": cases()[0]})
        if still.status_code != 200:
            tally.errors.append(f"after the run: HTTP {still.status_code}")
    every = list(itertools.chain.from_iterable(tally.latency.values()))
    kinds = {
        kind: {
            "requests": len(values),
            "p50_ms": percentile(values, 0.50) * 1000,
            "p90_ms": percentile(values, 0.90) * 1000,
            "p99_ms": percentile(values, 0.99) * 1000,
            "max_ms": max(values) * 1000,
        }
        for kind, values in sorted(tally.latency.items())
    }
    return {
        "clients": args.clients,
        "hostile_clients": args.hostile,
        "duration_s": round(elapsed, 1),
        "requests": len(every),
        "requests_per_s": len(every) / elapsed,
        "p50_ms": percentile(every, 0.50) * 1000 if every else 0.0,
        "p99_ms": percentile(every, 0.99) * 1000 if every else 0.0,
        "kinds": kinds,
        "refused": dict(tally.refused),
        "errors": tally.errors,
        "memory_mb": memory,
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--hostile", type=int, default=4)
    parser.add_argument("--max-body", type=int, default=1 << 20)
    parser.add_argument("--max-growth-mb", type=float, default=25.0)
    parser.add_argument("--json", type=Path, help="Also write the figures to this file.")
    args = parser.parse_args()
    with server(args.max_body) as (url, process):
        result = asyncio.run(run(args, url, process.pid))
    print(f"{result['machine']}; {args.clients} clients (+{args.hostile} hostile) for {result['duration_s']} s")
    print(f"{result['requests']:,} requests, {result['requests_per_s']:.1f} requests/s; "
          f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms")
    print(f"{'request':<10} {'count':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for kind, k in result["kinds"].items():
        print(f"{kind:<10} {k['requests']:>7,} {k['p50_ms']:>8.0f} {k['p90_ms']:>8.0f} {k['p99_ms']:>8.0f} {k['max_ms']:>8.0f}")
    print("refused as they should be: " + ", ".join(f"{n} {c}" for n, c in result["refused"].items()))
    memory = result["memory_mb"]
    print("server memory (RSS): " + ", ".join(f"{k} {v:.0f} MB" for k, v in memory.items()))
    growth = memory["end"] - memory["half-way"]
    print(f"errors: {len(result['errors'])}")
    for error in result["errors"][:10]:
        print("  " + error)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    failed = bool(result["errors"]) or growth > args.max_growth_mb or (args.hostile > 0 and not result["refused"])
    if growth > args.max_growth_mb:
        print(f"memory grew by {growth:.0f} MB over the second half (limit {args.max_growth_mb:.0f} MB)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
