"""Web servers for a WSGI app, side by side: the figures behind "Which server for WSGI apps".

    python3 dev.py bench                         # once: installs the dev and bench extras
    .venv/bin/python benchmarks/web_servers.py   # about two minutes

Each server runs the Flask app of ``benchmarks/web_app.py`` in a subprocess of the current
interpreter, with one worker, on a free port of 127.0.0.1 (no other traffic is sent):
``faas-bridge serve`` (uvicorn, a2wsgi with 8 threads behind its body-buffering front),
plain uvicorn with a2wsgi, gunicorn with the gthread worker (8 threads), waitress (its
default 4 threads) and gunicorn's sync worker. Servers are interleaved
round by round, their order rotated each round, and every figure is the median over rounds:

- cold start: process start to the first 200 answer to ``GET /`` (every round);
- latency p50: 500 sequential ``GET /`` on one keep-alive client, after 50 warm-up requests;
- 4 clients: requests per second of 4 threads with a client each, 250 ``GET /`` apiece;
- first SSE event: ``GET /events`` (5 events 0.2 s apart) until the first event arrives;
- beside a stream: a plain ``GET /`` on a new connection while that stream is open;
- beside 32 stalled: a plain ``GET /`` while 32 connections have sent half a request and
  wait (16 half the headers, 16 the headers and part of a body for ``POST /echo``, which
  reads it); 5 s means it timed out;
- RSS: resident memory of the server's processes (master and worker) after that traffic.

The full measurements run in the first ``--rounds`` rounds, cold starts in all ``--cold``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import importlib.util
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Callable

ROOT = Path(__file__).resolve().parents[1]
APP = "benchmarks.web_app:app"
HOST = "127.0.0.1"
REQUIRED = ("flask", "httpx", "gunicorn", "uvicorn", "waitress", "a2wsgi")
STALLED = 32
STALL_TIMEOUT = 5.0

Command = Callable[[int], list[str]]


def gunicorn(worker: list[str]) -> Command:
    """A gunicorn command line with one worker of the given kind."""

    def command(port: int) -> list[str]:
        return [
            *("-m", "gunicorn", "--workers", "1", *worker),
            *("--bind", f"{HOST}:{port}", "--log-level", "warning", APP),
        ]

    return command


def uvicorn_a2wsgi(port: int) -> list[str]:
    return [
        *("-m", "uvicorn", "--factory", "benchmarks.web_app:asgi_app"),
        *("--host", HOST, "--port", str(port), "--log-level", "warning"),
        *("--no-access-log", "--lifespan", "off"),
    ]


def faas_bridge_serve(port: int) -> list[str]:
    return [
        *("-m", "faas_bridge", "serve", APP, "--platform", "local"),
        *("--host", HOST, "--port", str(port), "--no-access-log"),
    ]


def waitress(port: int) -> list[str]:
    return ["-m", "waitress", f"--listen={HOST}:{port}", APP]


# The first is the reference of the ratios.
SERVERS: dict[str, Command] = {
    "faas-bridge serve": faas_bridge_serve,
    "uvicorn + a2wsgi": uvicorn_a2wsgi,
    "gunicorn, gthread worker": gunicorn(["--worker-class", "gthread", "--threads", "8"]),
    "waitress": waitress,
    "gunicorn, sync worker": gunicorn(["--worker-class", "sync"]),
}


@dataclass
class Samples:
    """One list of per-round values for each figure, of one server."""

    cold_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    throughput: list[float] = field(default_factory=list)
    first_event_ms: list[float] = field(default_factory=list)
    stream_ms: list[float] = field(default_factory=list)
    beside_stream_ms: list[float] = field(default_factory=list)
    beside_stalled_ms: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)


@dataclass
class Server:
    """A running server process and the port it listens on."""

    process: subprocess.Popen[bytes]
    port: int
    log: IO[bytes]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def answers_200(port: int) -> bool:
    """Whether ``GET /`` on the port answers 200 (False while nothing listens yet)."""
    try:
        with socket.create_connection((HOST, port), timeout=2) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextlib.contextmanager
def running(command: Command, cold_ms: list[float]) -> Iterator[Server]:
    """Start the server, append its time to the first 200 to ``cold_ms``; stop it at exit."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, *command(port)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            while not answers_200(port):
                if process.poll() is not None or time.perf_counter() - start > 30:
                    log.seek(0)
                    output = log.read().decode(errors="replace").strip()
                    raise RuntimeError(f"{command(port)} did not answer:\n{output}")
                time.sleep(0.002)
            cold_ms.append((time.perf_counter() - start) * 1000)
            yield Server(process, port, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def tree_rss_mib(pid: int) -> float | None:
    """Resident memory of a process and its descendants (Linux /proc; None elsewhere)."""
    try:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as stat:
                    # "pid (name) state ppid ...": the name may hold spaces, split after ")"
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
        tree, grown = {pid}, True
        while grown:
            children = {child for child, parent in parents.items() if parent in tree}
            grown = not children <= tree
            tree |= children
        kib = 0
        for member in tree:
            with open(f"/proc/{member}/status") as status:
                line = next(line for line in status if line.startswith("VmRSS:"))
                kib += int(line.split()[1])
        return kib / 1024
    except (OSError, StopIteration):
        return None


def latency_ms(url: str, requests: int = 500) -> float:
    """Median time of sequential requests on one keep-alive client."""
    import httpx

    with httpx.Client(base_url=url) as client:
        for _ in range(50):
            client.get("/").raise_for_status()
        timings = []
        for _ in range(requests):
            start = time.perf_counter()
            client.get("/").raise_for_status()
            timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def throughput(url: str, clients: int = 4, requests: int = 250) -> float:
    """Requests per second of ``clients`` threads, each with its own keep-alive client."""
    import httpx

    ready = threading.Barrier(clients + 1)
    errors: list[BaseException] = []

    def work() -> None:
        with httpx.Client(base_url=url) as client:
            try:
                client.get("/").raise_for_status()  # connected before the clock starts
                ready.wait()
                for _ in range(requests):
                    client.get("/").raise_for_status()
            except (httpx.HTTPError, threading.BrokenBarrierError) as exc:
                errors.append(exc)
                ready.abort()

    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        ready.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return clients * requests / elapsed


def stream_figures(url: str) -> tuple[float, float, float]:
    """First SSE event, whole stream, and a plain request made while the stream is open (ms)."""
    import httpx

    first_event = threading.Event()
    timings: dict[str, float] = {}
    # Clients are built before any clock starts: building one costs ~20 ms (an SSL context).
    streaming, plain = httpx.Client(base_url=url, timeout=30), httpx.Client(base_url=url)

    def read_stream() -> None:
        start = time.perf_counter()
        with streaming.stream("GET", "/events") as response:
            for chunk in response.iter_raw():
                if b"data:" in chunk and not first_event.is_set():
                    timings["first"] = time.perf_counter() - start
                    first_event.set()
        timings["stream"] = time.perf_counter() - start
        first_event.set()

    with streaming, plain:
        reader = threading.Thread(target=read_stream)
        reader.start()
        first_event.wait(30)
        start = time.perf_counter()
        plain.get("/").raise_for_status()
        beside = time.perf_counter() - start
        reader.join()
    return timings["first"] * 1000, timings["stream"] * 1000, beside * 1000


def beside_stalled_ms(port: int) -> float:
    """A plain request while STALLED connections hold half a request (STALL_TIMEOUT: none)."""
    import httpx

    sockets = []
    try:
        for number in range(STALLED):
            sock = socket.create_connection((HOST, port), timeout=5)
            sockets.append(sock)
            if number % 2:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: bench\r\nX-Stalled: ")
            else:
                sock.sendall(b"POST /echo HTTP/1.1\r\nHost: bench\r\nContent-Length: 100\r\n\r\nxx")
        time.sleep(0.2)  # let the server take them in
        with httpx.Client(timeout=STALL_TIMEOUT) as client:
            start = time.perf_counter()
            try:
                client.get(f"http://{HOST}:{port}/").raise_for_status()
            except httpx.TimeoutException:
                return STALL_TIMEOUT * 1000
            return (time.perf_counter() - start) * 1000
    finally:
        for sock in sockets:
            sock.close()


def measure(rounds: int, cold_runs: int) -> dict[str, Samples]:
    names = list(SERVERS)
    samples = {name: Samples() for name in names}
    for name in names:  # byte-code caches written once, as a deployed app has them
        with running(SERVERS[name], []):
            pass
    for round_ in range(max(rounds, cold_runs)):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            figures = samples[name]
            with running(SERVERS[name], figures.cold_ms) as server:
                if round_ >= rounds:
                    continue
                figures.latency_ms.append(latency_ms(server.url))
                figures.throughput.append(throughput(server.url))
                first, stream, beside = stream_figures(server.url)
                figures.first_event_ms.append(first)
                figures.stream_ms.append(stream)
                figures.beside_stream_ms.append(beside)
                figures.beside_stalled_ms.append(beside_stalled_ms(server.port))
                rss = tree_rss_mib(server.process.pid)
                if rss is not None:
                    figures.rss_mib.append(rss)
        print(f"  round {round_ + 1} done", file=sys.stderr, flush=True)
    return samples


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def table(samples: dict[str, Samples]) -> list[str]:
    """The figures, then each as a ratio to the first server's."""
    columns: list[tuple[str, Callable[[Samples], list[float]], str]] = [
        ("cold start ms", lambda s: s.cold_ms, "{:.0f}"),
        ("p50 ms", lambda s: s.latency_ms, "{:.2f}"),
        ("4 clients req/s", lambda s: s.throughput, "{:,.0f}"),
        ("1st SSE event ms", lambda s: s.first_event_ms, "{:.1f}"),
        ("beside a stream ms", lambda s: s.beside_stream_ms, "{:.1f}"),
        ("beside 32 stalled ms", lambda s: s.beside_stalled_ms, "{:.1f}"),
        ("RSS MiB", lambda s: s.rss_mib, "{:.0f}"),
    ]
    reference = samples[next(iter(SERVERS))]
    head = f"  {'server':26}" + "".join(f"{title:>19}" for title, _, _ in columns)
    values, ratios = [head], [head]
    for name, figures in samples.items():
        value_cells, ratio_cells = [], []
        for _, select, fmt in columns:
            value, base = median(select(figures)), median(select(reference))
            value_cells.append(fmt.format(value) if value is not None else "-")
            ratio_cells.append(f"{value / base:.2f}" if value is not None and base else "-")
        stream, first = median(figures.stream_ms), median(figures.first_event_ms)
        if stream and first and first > stream / 2:
            value_cells[3] += " (buffered)"
        values.append(f"  {name:26}" + "".join(f"{cell:>19}" for cell in value_cells))
        ratios.append(f"  {name:26}" + "".join(f"{cell:>19}" for cell in ratio_cells))
    return [*values, "", f"Ratios to {next(iter(SERVERS))}:", *ratios]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7, help="rounds with every figure")
    parser.add_argument("--cold", type=int, default=15, help="rounds with the cold start")
    args = parser.parse_args()
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if missing or os.name != "posix":
        reason = f"missing {', '.join(missing)}" if missing else "gunicorn needs a POSIX system"
        print(
            f"{reason}: run `python3 dev.py bench` once, then "
            "`.venv/bin/python benchmarks/web_servers.py` (on Windows: inside WSL)",
            file=sys.stderr,
        )
        return 2
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}" for name in REQUIRED if name != "httpx"
    )
    print(
        f"Web servers for a Flask app — Python {platform.python_version()} on "
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}; {versions}; "
        f"medians of {args.rounds} rounds ({args.cold} for the cold start)",
        flush=True,
    )
    for line in table(measure(args.rounds, args.cold)):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
