"""faas_bridge against the peer adapters, side by side in one run.

    python3 dev.py bench            # installs the `bench` extra, prints the tables
    python benchmarks/run.py --quick

Per-call overhead is the handler's time minus the time of calling the same trivial app
directly with a prebuilt environ (WSGI) or scope (ASGI). Every call gets a fresh event,
decoded from JSON as the runtime does per invocation (built before each timed round, so
the decoding is not timed): no string of it arrives with its hash already computed, as none
does in production. Within one process every variant,
faas_bridge's and the peers', is measured interleaved round by round (order rotating), so
drift of the machine hits all of them alike; each figure is the median over rounds. That
comparison runs in several fresh processes (``--processes``, default 5), because a
process's hash seed and memory layout alone move its figures by several percent; the
tables give the median ratio and its range. The peers receive an AWS API Gateway (REST, v1)
event of the same logical request, each at its default settings: apig-wsgi and
serverless-wsgi for WSGI, Mangum for ASGI (lifespan off, its fastest, as faas_bridge's).
Cold start is ``import`` + handler creation, timed inside fresh interpreters (median).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faas_bridge import make_handler  # noqa: E402
from faas_bridge.testing import build_context, build_event  # noqa: E402

# A variant: (the call timed, taking one event; a maker of a fresh event for each call).
Variant = tuple[Callable[[Any], Any], Callable[[], Any]]

# One logical request for every adapter: a browser-like GET with a query and cookies.
METHOD = "GET"
PATH = "/api/items"
QUERY = [("page", "2"), ("tag", "a"), ("tag", "b")]
HEADERS = {
    "Accept": "application/json",
    "Accept-Encoding": "gzip, deflate, br",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
    "Cookie": "session=abc123; theme=dark",
    "User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36",
    "X-Forwarded-Proto": "https",
    "Connection": "keep-alive",
}
HOST = "api.example.com"


# ---------------------------------------------------------------------------------------------
# apps


def trivial_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "11")])
    return [b'{"ok": true}'[:11]]


async def trivial_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"11")],
        }
    )
    await send({"type": "http.response.body", "body": b'{"ok": true}'[:11]})


def direct_environ() -> dict[str, Any]:
    from io import BytesIO

    environ: dict[str, Any] = {
        "REQUEST_METHOD": METHOD,
        "SCRIPT_NAME": "",
        "PATH_INFO": PATH,
        "QUERY_STRING": "page=2&tag=a&tag=b",
        "SERVER_NAME": HOST,
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "https",
        "wsgi.input": BytesIO(b""),
    }
    for name, value in HEADERS.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def direct_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": METHOD,
        "scheme": "https",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"page=2&tag=a&tag=b",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()],
        "client": ("203.0.113.10", 0),
        "server": (HOST, 443),
    }


def aws_v1_event() -> dict[str, Any]:
    """The same request as AWS API Gateway (REST) would hand a Lambda function."""
    multi_query: dict[str, list[str]] = {}
    for key, value in QUERY:
        multi_query.setdefault(key, []).append(value)
    headers = {**HEADERS, "Host": HOST}
    return {
        "resource": "/{proxy+}",
        "path": PATH,
        "httpMethod": METHOD,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()},
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": {"proxy": PATH[1:]},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": METHOD,
            "path": "/prod" + PATH,
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": HEADERS["User-Agent"]},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def platform_event(name: str) -> Any:
    return build_event(name, METHOD, PATH, query=QUERY, headers=HEADERS, host=HOST)


def fresh(event: Any) -> Callable[[], Any]:
    """A maker of fresh copies of ``event``, as each invocation's decoded JSON is (bytes,
    FC 3.0's form, are handed over as they are: the handler decodes them itself)."""
    if isinstance(event, bytes):
        return lambda: event
    return partial(json.loads, json.dumps(event))


def same(value: Any) -> Callable[[], Any]:
    return lambda: value


# ---------------------------------------------------------------------------------------------
# timing


def measure(variants: dict[str, Variant], rounds: int, calls: int) -> dict[str, float]:
    """Median microseconds per call of each variant, interleaved round by round.

    Each round first builds the fresh events of every call, then times the calls. The order
    rotates every round, so no variant always runs first after the collection that ends a
    round (which measurably slows whatever runs next).
    """
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for call, make in variants.values():  # warm up every path (imports, caches)
        for _ in range(200):
            call(make())
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for round_number in range(rounds):
            shift = round_number % len(names)
            for name in names[shift:] + names[:shift]:
                call, make = variants[name]
                events = [make() for _ in range(calls)]
                start = time.perf_counter_ns()
                for event in events:
                    call(event)
                samples[name].append((time.perf_counter_ns() - start) / calls / 1000)
                del events
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: statistics.median(values) for name, values in samples.items()}


def wsgi_variants() -> dict[str, Variant]:
    from apig_wsgi import make_lambda_handler
    from serverless_wsgi import handle_request

    environ = direct_environ()
    start_response: Callable[..., Any] = lambda status, headers, exc_info=None: None  # noqa: E731

    def direct(event: Any) -> Any:
        environ["wsgi.input"].seek(0)
        return trivial_wsgi(environ, start_response)

    variants: dict[str, Variant] = {"direct app call": (direct, same(None))}
    ours = make_handler(trivial_wsgi)
    for name in ("tencent_apigw", "tencent_url", "cloudbase", "alibaba_fc"):
        context = build_context(name)
        variants[f"faas_bridge {name}"] = (
            partial(_call, ours, context),
            fresh(platform_event(name)),
        )
    apig = make_lambda_handler(trivial_wsgi)  # its defaults
    aws = fresh(aws_v1_event())
    variants["apig-wsgi (AWS v1)"] = (partial(_call, apig, None), aws)
    variants["serverless-wsgi (AWS v1)"] = (
        partial(handle_request, trivial_wsgi, context=None),
        aws,
    )
    return variants


def _call(handler: Callable[[Any, Any], Any], context: Any, event: Any) -> Any:
    return handler(event, context)


def asgi_variants() -> dict[str, Variant] | None:
    import asyncio

    from mangum import Mangum

    try:
        ours = make_handler(trivial_asgi, lifespan="off")
    except Exception as exc:  # ASGI support absent in this build
        print(f"(faas_bridge ASGI not measured: {exc})")
        return None
    loop = asyncio.new_event_loop()
    scope = direct_scope()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    def direct(event: Any) -> Any:
        return loop.run_until_complete(trivial_asgi(dict(scope), receive, send))

    variants: dict[str, Variant] = {"direct app call": (direct, same(None))}
    for name in ("tencent_apigw", "alibaba_fc"):
        context = build_context(name)
        variants[f"faas_bridge {name}"] = (
            partial(_call, ours, context),
            fresh(platform_event(name)),
        )
    mangum = Mangum(trivial_asgi, lifespan="off")
    variants["Mangum (AWS v1)"] = (partial(_call, mangum, lambda_context()), fresh(aws_v1_event()))
    return variants


def lambda_context() -> Any:
    """A Lambda context as Mangum reads it (it types it as its own protocol)."""

    class LambdaContext:
        aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    return LambdaContext()


def overhead_table(
    title: str, runs: list[dict[str, float]], peer_names: Iterable[str]
) -> list[str]:
    """Per-call overheads of several one-process runs: medians, and each ratio's range.

    In every run the overhead is a variant's time minus the direct app call's, and the
    ratio is against the peer with the smallest overhead in that same run.
    """
    ratios: dict[str, list[float]] = {}
    overheads: dict[str, list[float]] = {}
    best_peers = []
    for medians in runs:
        base = medians["direct app call"]
        overhead = {
            name: value - base for name, value in medians.items() if name != "direct app call"
        }
        peers = [name for name in peer_names if name in overhead]
        best_peer = min(peers, key=lambda name: overhead[name])
        best_peers.append(best_peer)
        for name, value in overhead.items():
            overheads.setdefault(name, []).append(value)
            ratios.setdefault(name, []).append(value / overhead[best_peer])
    base = statistics.median(medians["direct app call"] for medians in runs)
    peer = max(set(best_peers), key=best_peers.count)
    lines = [
        f"\n{title}  ({len(runs)} processes; direct app call {base:.2f} µs; ratio to {peer})",
        f"  {'variant':34} {'overhead µs':>11} {'ratio':>7} {'range':>13}",
    ]
    for name, values in ratios.items():
        spread = f"{min(values):.2f}-{max(values):.2f}"
        lines.append(
            f"  {name:34} {statistics.median(overheads[name]):11.2f} "
            f"{statistics.median(values):7.2f} {spread:>13}"
        )
    return lines


def measure_overheads(rounds: int, calls: int) -> dict[str, dict[str, float]]:
    """One process's medians for the trivial apps, WSGI and (when available) ASGI."""
    results = {"wsgi": measure(wsgi_variants(), rounds, calls)}
    asgi_calls = asgi_variants()
    if asgi_calls is not None:
        results["asgi"] = measure(asgi_calls, rounds, calls // 2)
    return results


def overheads_in_processes(count: int, rounds: int, calls: int) -> list[dict[str, Any]]:
    """:func:`measure_overheads` in fresh interpreters, one after the other.

    Each process has its own hash seed and memory layout, which move a run's figures by
    several percent on a virtual machine: the spread over processes shows it.
    """
    runs = []
    for _ in range(count):
        output = subprocess.run(
            [sys.executable, __file__, "--worker", str(rounds), str(calls)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
        runs.append(json.loads(output.splitlines()[-1]))
    return runs


def realistic_table(rounds: int, calls: int) -> list[str]:
    """The example apps end to end (app time included): faas_bridge against the peers."""
    sys.path.insert(0, str(ROOT))
    from apig_wsgi import make_lambda_handler

    from examples import load_index

    flask_index = load_index("flask_app")
    flask_app = flask_index.app
    aws = fresh(aws_v1_event())
    variants: dict[str, Variant] = {}
    ours = make_handler(flask_app)
    for name in ("tencent_apigw", "alibaba_fc"):
        context = build_context(name)
        call = partial(_call, ours, context)
        variants[f"Flask  faas_bridge {name}"] = (call, fresh(platform_event(name)))
    apig = make_lambda_handler(flask_app)  # its defaults
    variants["Flask  apig-wsgi (AWS v1)"] = (partial(_call, apig, None), aws)
    # Each framework is measured on its own: one's garbage must not land in the other's time.
    medians = measure(variants, rounds, calls)
    variants = {}
    try:
        from mangum import Mangum

        fastapi_index = load_index("fastapi_app")
        fastapi_app = fastapi_index.app
        ours_asgi = make_handler(fastapi_app, lifespan="off")
        for name in ("tencent_apigw", "alibaba_fc"):
            context = build_context(name)
            call = partial(_call, ours_asgi, context)
            variants[f"FastAPI faas_bridge {name}"] = (call, fresh(platform_event(name)))
        mangum = Mangum(fastapi_app, lifespan="off")
        call = partial(_call, mangum, lambda_context())
        variants["FastAPI Mangum (AWS v1)"] = (call, aws)
    except Exception as exc:
        print(f"(FastAPI example not measured: {type(exc).__name__}: {exc})")
    if variants:
        medians.update(measure(variants, rounds, calls))
    peers = {"Flask": medians["Flask  apig-wsgi (AWS v1)"]}
    if "FastAPI Mangum (AWS v1)" in medians:
        peers["FastAPI"] = medians["FastAPI Mangum (AWS v1)"]
    lines = ["\nRealistic apps, GET /api/items end to end (app time included; ratio to the peer)"]
    lines.append(f"  {'variant':40} {'per call µs':>11} {'ratio':>7}")
    for name, value in medians.items():
        ratio = value / peers[name.split()[0]]
        lines.append(f"  {name:40} {value:11.1f} {ratio:7.2f}")
    return lines


COLD_START = {
    "faas_bridge (WSGI)": (
        "import faas_bridge\nfaas_bridge.make_handler(lambda environ, start_response: [])\n"
    ),
    "apig-wsgi": (
        "import apig_wsgi\napig_wsgi.make_lambda_handler(lambda environ, start_response: [])\n"
    ),
    "faas_bridge (ASGI)": (
        "import faas_bridge\n"
        "async def app(scope, receive, send): pass\n"
        "faas_bridge.make_handler(app, lifespan='off')\n"
    ),
    "Mangum": (
        "import mangum\n"
        "async def app(scope, receive, send): pass\n"
        "mangum.Mangum(app, lifespan='off')\n"
    ),
}


def cold_start(runs: int) -> list[str]:
    """import + handler creation inside fresh interpreters, interleaved, median in ms."""
    timings: dict[str, list[float]] = {name: [] for name in COLD_START}
    leaks: dict[str, bool] = {}
    # Byte-code caches written once (a first run each), as a deployed package has them.
    environ = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for body in COLD_START.values():
        subprocess.run([sys.executable, "-c", body], capture_output=True, cwd=ROOT, env=environ)
    for _ in range(runs):
        for name, body in COLD_START.items():
            if name not in timings:
                continue
            code = (
                "import time, sys\nstart = time.perf_counter()\n"
                + body
                + "print(time.perf_counter() - start, 'asyncio' in sys.modules)\n"
            )
            result = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=environ
            )
            if result.returncode != 0:
                timings.pop(name, None)
                print(f"(cold start of {name} failed: {result.stderr.strip().splitlines()[-1]})")
            elapsed, asyncio_loaded = result.stdout.split()
            timings[name].append(float(elapsed) * 1000)
            leaks[name] = asyncio_loaded == "True"
    lines = [f"\nCold start: import + handler creation, median of {runs} fresh interpreters"]
    base = statistics.median(timings["apig-wsgi"]) if timings.get("apig-wsgi") else None
    lines.append(f"  {'variant':34} {'ms':>8} {'vs apig-wsgi':>13} {'imports asyncio':>16}")
    for name, values in timings.items():
        if not values:
            continue
        median = statistics.median(values)
        ratio = f"{median / base:.2f}" if base else "-"
        lines.append(f"  {name:34} {median:8.2f} {ratio:>13} {leaks.get(name)!s:>16}")
    return lines


def memory_growth(calls: int) -> list[str]:
    """RSS growth over many warm calls (WSGI and, when available, ASGI)."""

    def rss_kib() -> int:
        try:
            with open("/proc/self/statm") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
        except OSError:
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    lines = [f"\nMemory: RSS growth over {calls:,} warm calls"]
    handlers: dict[str, Callable[[Any, Any], Any]] = {"WSGI": make_handler(trivial_wsgi)}
    with contextlib.suppress(Exception):
        handlers["ASGI"] = make_handler(trivial_asgi, lifespan="off")
    for kind, handler in handlers.items():
        for name in ("tencent_apigw", "alibaba_fc"):
            event, context = platform_event(name), build_context(name)
            for _ in range(2000):
                handler(event, context)
            gc.collect()
            before = rss_kib()
            for _ in range(calls):
                handler(event, context)
            gc.collect()
            lines.append(f"  {kind} {name:20} {rss_kib() - before:+8d} KiB")
    return lines


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:  # one measuring process of overheads_in_processes
        print(json.dumps(measure_overheads(int(sys.argv[2]), int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a rough look)")
    parser.add_argument("--processes", type=int, default=5, help="measuring processes (5)")
    parser.add_argument("--json", type=Path, help="also write the medians to this file")
    args = parser.parse_args()
    rounds, calls = (7, 2000) if args.quick else (25, 5000)
    processes = min(args.processes, 2) if args.quick else args.processes
    print(
        f"faas_bridge benchmarks — Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} cores, {platform.system()}; {rounds} rounds × {calls} calls"
    )
    runs = overheads_in_processes(processes, rounds, calls)
    wsgi_peers = ["apig-wsgi (AWS v1)", "serverless-wsgi (AWS v1)"]
    for line in overhead_table("WSGI per-call overhead", [run["wsgi"] for run in runs], wsgi_peers):
        print(line)
    if all("asgi" in run for run in runs):
        asgi_runs = [run["asgi"] for run in runs]
        for line in overhead_table("ASGI per-call overhead", asgi_runs, ["Mangum (AWS v1)"]):
            print(line)
    for line in realistic_table(max(7, rounds // 2), calls // 10):
        print(line)
    for line in cold_start(7 if args.quick else 15):
        print(line)
    for line in memory_growth(20_000 if args.quick else 100_000):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(runs, indent=2))


if __name__ == "__main__":
    main()
