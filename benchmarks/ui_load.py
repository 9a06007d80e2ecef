"""Load on `stylegan ui`: N concurrent API clients calling `/generate`; requests/s, latency percentiles, errors.

Starts the app in a subprocess (the bundled network unless --network is given; or --url to measure a running app),
then each of --clients threads opens its own gradio client and calls `/generate` --requests times with its own
seeds and psi, checking that every answer holds the images of the seeds it asked for (a mixed-up answer counts as
an error). The queue serves one request at a time per device; the others wait in it.

Example:
    python benchmarks/ui_load.py --clients 8 --requests 4 --seeds-per-call 4

Prints one JSON line: clients, requests, errors, requests_per_s, latency_median_s, latency_p95_s, wall_s.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(network: str | None, folder: Path, queue_size: int) -> tuple[subprocess.Popen, str]:
    """Start `stylegan ui` with its session in folder/session (its log in folder/server.log)."""
    port = free_port()
    args = [sys.executable, "-m", "stylegan", "ui", "--port", str(port), "--workdir", str(folder / "session")]
    args += ["--queue-size", str(queue_size)] + (["--network", network] if network else [])
    log = open(folder / "server.log", "w")  # closed with the process
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"stylegan ui exited: {(folder / 'server.log').read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, f"http://127.0.0.1:{port}/"
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("stylegan ui did not start within 180 s")


def run_load(url: str, clients: int, requests: int, seeds_per_call: int) -> dict[str, float | int]:
    """Drive the app at `url`; returns the measurements."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as e:  # counted, not raised: the benchmark reports every failure
            with lock:
                errors.extend([f"client {k}: {e}"] * requests)
            return
        for r in range(requests):
            first = (k * requests + r) * seeds_per_call
            seeds = list(range(first, first + seeds_per_call))
            t0 = time.perf_counter()
            try:
                result = client.predict(seeds=f"{seeds[0]}-{seeds[-1]}", psi=0.5 + 0.01 * r, api_name="/generate")
                captions = [item["caption"] for item in result]
                ok = captions == [f"seed {s}" for s in seeds] and all(Path(i["image"]).is_file() for i in result)
                if not ok:
                    raise RuntimeError(f"answer for seeds {seeds} holds {captions}")
            except Exception as e:  # counted, not raised
                with lock:
                    errors.append(f"client {k} request {r}: {e}")
                continue
            with lock:
                latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat = sorted(latencies)
    p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))] if lat else float("nan")
    for e in errors[:5]:
        print("error:", e, file=sys.stderr)
    return {
        "clients": clients,
        "requests": clients * requests,
        "errors": len(errors),
        "requests_per_s": round(len(lat) / wall, 3),
        "latency_median_s": round(statistics.median(lat), 3) if lat else float("nan"),
        "latency_p95_s": round(p95, 3),
        "wall_s": round(wall, 2),
    }


def main(argv: list[str] | None = None) -> dict[str, float | int]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", help="Measure an app that is already running instead of starting one.")
    p.add_argument("--network", help="Network for the app this script starts (default: the bundled one).")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=4, help="Requests per client.")
    p.add_argument("--seeds-per-call", type=int, default=4)
    p.add_argument("--queue-size", type=int, default=64)
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.url:
        stats = run_load(args.url, args.clients, args.requests, args.seeds_per_call)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            proc, url = start_app(args.network, Path(tmp), args.queue_size)
            try:
                stats = run_load(url, args.clients, args.requests, args.seeds_per_call)
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    print(json.dumps(stats))
    return stats


if __name__ == "__main__":
    main()
