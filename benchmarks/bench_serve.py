"""Requests per second and latency of ``cordswivel serve`` under concurrent load, against a real server.

    .venv/bin/python benchmarks/bench_serve.py [--model runs/demo/model] [--requests 5000] [--concurrency 32]
        [--analogy-concurrency 16] [--map-words 5000]

Starts ``cordswivel serve MODEL --port 0`` in its own process, then for each endpoint sends
``--requests`` requests over ``--concurrency`` keep-alive connections, in ``--rounds`` rounds (a small asyncio HTTP/1.1
client, so that the client's own cost stays small beside the server's on a 2-core machine):
``GET /api/neighbors`` for words drawn uniformly from the whole vocabulary (so mostly not cached),
``POST /api/embed`` of 10 SciCite validation sentences each, and ``POST /api/analogy`` of random
word triples (b + c - a, k 10) at ``--analogy-concurrency``. Reports requests/s, p50 and p99
latency, errors (any status but 200) and the server's RSS before and after each round. Then the
t-SNE map of ``--map-words`` words: the first request (computed) and 20 more (the server's cache).
Targets (2 cores): >= 1,000 neighbour and analogy requests/s, p99 < 50 ms, 0 errors, memory flat;
the t-SNE map of 5,000 words in <= 30 s, then < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from cordswivel.data import find_data_dir
from cordswivel.embedding.vectors import TextEmbedding
from cordswivel.tutorial.scicite import load_scicite


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def connection(host: str, port: int, requests: list[bytes], latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for request in requests:
            started = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if b" 200 " not in status_line:
                errors.append(status_line.decode().strip())
    finally:
        writer.close()


async def load(host: str, port: int, requests: list[bytes], concurrency: int) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    share = [requests[k::concurrency] for k in range(concurrency)]
    started = time.perf_counter()
    await asyncio.gather(*(connection(host, port, part, latencies, errors) for part in share if part))
    seconds = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 2),
        "requests_per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def run_load(*args: object) -> dict:
    """``load`` on uvloop where it is installed (uvicorn uses it too), else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(load(*args))  # type: ignore[arg-type]
    return uvloop.run(load(*args))  # type: ignore[arg-type]


def get(host: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def post(host: str, path: str, body: dict) -> bytes:
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="runs/demo/model", help="model to serve (default %(default)s: make demo)")
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both loads (default %(default)s)")
    parser.add_argument("--analogy-concurrency", type=int, default=16)
    parser.add_argument("--map-words", type=int, default=5000, help="words of the t-SNE map (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not Path(args.model).exists():
        sys.exit(f"bench_serve: {args.model} not found: run 'make demo' first or pass --model")
    vocab = TextEmbedding.load(args.model).vocab
    sentences = list(load_scicite(find_data_dir() / "scicite").validation.texts)
    rng = random.Random(args.seed)

    process = subprocess.Popen(
        [sys.executable, "-m", "cordswivel.cli", "serve", args.model, "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        match = re.search(r"http://([\d.]+):(\d+)/", process.stdout.readline())
        if not match:
            sys.exit("bench_serve: the server did not start")
        host, port = match.group(1), int(match.group(2))
        warm_up = [get(host, f"/api/neighbors?word={quote(vocab[0])}&k=10"), post(host, "/api/embed", {"texts": ["a"]})]
        run_load(host, port, warm_up * 32, 8)

        results, rss = {}, {"before": round(rss_mb(process.pid))}
        for round_ in range(1, args.rounds + 1):  # fresh words and sentences each round: memory must stay flat
            neighbours = [
                get(host, f"/api/neighbors?word={quote(rng.choice(vocab))}&k=10") for _ in range(args.requests)
            ]
            embeds = [post(host, "/api/embed", {"texts": rng.sample(sentences, 10)}) for _ in range(args.requests)]
            results[f"neighbors_{round_}"] = run_load(host, port, neighbours, args.concurrency)
            results[f"embed_{round_}"] = run_load(host, port, embeds, args.concurrency)
            analogies = [
                post(host, "/api/analogy", {"positive": rng.sample(vocab, 2), "negative": [rng.choice(vocab)], "k": 10})
                for _ in range(args.requests)
            ]
            results[f"analogy_{round_}"] = run_load(host, port, analogies, args.analogy_concurrency)
            rss[f"after_round_{round_}"] = round(rss_mb(process.pid))
        map_request = [get(host, f"/api/map?n={args.map_words}&method=tsne")]
        results["tsne_map_first_s"] = run_load(host, port, map_request, 1)["seconds"]
        cached = run_load(host, port, map_request * 20, 1)
        results["tsne_map_cached_ms"] = {"p50": cached["p50_ms"], "max": round(cached["p99_ms"], 2)}
        rss["after_map"] = round(rss_mb(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=30)
    report = {
        "benchmark": "serve",
        "model": args.model,
        "vocab_size": len(vocab),
        "concurrency": args.concurrency,
        **results,
        "server_rss_mb": rss,
        "targets": {
            "neighbors_and_analogy_requests_per_second": 1000,
            "p99_ms": 50,
            "errors": 0,
            "tsne_map_first_s": 30,
            "tsne_map_cached_ms": 100,
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
