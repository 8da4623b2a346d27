"""The main job: the example apps answering events of every cloud, printed as a summary.

    python3 dev.py demo            # or: python -m examples.demo [--verbose]

Part 1 feeds the sample events shipped inside faas_bridge (``faas-bridge events`` lists
them) to the Flask example, and, where a ``../shared/reference-events`` folder of recorded
public events sits beside the checkout (``FAAS_BRIDGE_REFERENCE_EVENTS`` points elsewhere),
those too; part 2 runs a scripted session (JSON API, form, upload,
download, cookies, redirect, Chinese path, gzip, app error) as each platform's gateway would
send it, decoding each response the way that gateway does; part 3 does the same for the
FastAPI example (lifespan store, dependency, OpenAPI docs under ``/release``, multipart
upload, SSE, a never-ending stream cut at the invocation's deadline, the FC 2.0 call).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import Any, Callable
from unicodedata import east_asian_width
from urllib.parse import unquote

from faas_bridge.testing import (
    PLATFORM_NAMES,
    TestResponse,
    build_context,
    build_event,
    list_events,
    load_event,
    parse_response,
)

from . import load_index

REFERENCE_EVENTS = Path(
    os.environ.get(
        "FAAS_BRIDGE_REFERENCE_EVENTS",
        Path(__file__).resolve().parents[2] / "shared" / "reference-events",
    )
)
Handler = Callable[[Any, Any], Any]

# (label, method, path, build_event keyword arguments)
SCRIPT: list[tuple[str, str, str, dict[str, Any]]] = [
    ("home page", "GET", "/", {}),
    ("JSON list", "GET", "/api/items", {"headers": {"Accept": "application/json"}}),
    ("JSON create", "POST", "/api/items", {"json": {"name": "oolong", "price": 30}}),
    (
        "repeated query",
        "GET",
        "/api/echo",
        {"query": [("tag", "a"), ("tag", "b"), ("q", "云 函数")], "headers": {"Cookie": "x=1"}},
    ),
    (
        "form post",
        "POST",
        "/form",
        {
            "body": "city=%E6%B7%B1%E5%9C%B3&tags=a&tags=b",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
    ),
    (
        "binary upload",
        "POST",
        "/upload",
        {"body": bytes(range(256)), "headers": {"Content-Type": "application/octet-stream"}},
    ),
    ("binary download", "GET", "/download/pixel.png", {}),
    ("two cookies + redirect", "GET", "/login", {"query": {"user": "lin"}}),
    ("redirect via url_for", "GET", "/go", {}),
    ("Chinese path", "GET", "/你好", {}),
    ("gzip body", "GET", "/compressed", {"headers": {"Accept-Encoding": "gzip"}}),
    ("app error", "GET", "/boom", {}),
]


_BOUNDARY = "demoboundary"
MULTIPART = (
    (
        f"--{_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="报告.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    + bytes(range(256))
    + f"\r\n--{_BOUNDARY}--\r\n".encode()
)

FASTAPI_SCRIPT: list[tuple[str, str, str, dict[str, Any]]] = [
    ("home page", "GET", "/", {}),
    ("OpenAPI docs", "GET", "/docs", {}),
    ("OpenAPI schema", "GET", "/openapi.json", {}),
    ("JSON list", "GET", "/api/items", {}),
    ("JSON create", "POST", "/api/items", {"json": {"name": "乌龙", "price": 30}}),
    ("validation error", "POST", "/api/items", {"json": {"name": "", "price": -1}}),
    ("platform dependency", "GET", "/api/whoami", {}),
    (
        "multipart upload",
        "POST",
        "/upload",
        {
            "body": MULTIPART,
            "headers": {"Content-Type": f"multipart/form-data; boundary={_BOUNDARY}"},
        },
    ),
    ("binary download", "GET", "/download/pixel.png", {}),
    ("two cookies", "POST", "/login", {"query": {"user": "lin"}}),
    ("cookies read back", "GET", "/me", {"headers": {"Cookie": "session=s-lin; theme=dark"}}),
    ("redirect via url_for", "GET", "/go", {}),
    ("SSE stream (3 events)", "GET", "/events", {"query": {"count": "3"}}),
    ("endless SSE, deadline", "GET", "/events", {"query": {"count": "0", "interval": "0.05"}}),
    ("app error", "GET", "/boom", {}),
]


def short_context(platform: str) -> Any:
    """A context whose time limit is 0.5 s, so a never-ending stream is cut quickly."""
    context = build_context(platform)
    if isinstance(context, dict):  # Tencent SCF and CloudBase
        context["time_limit_in_ms"] = 500
    else:  # Alibaba FC, behind its HTTP trigger or API Gateway
        context.function.timeout = 0.5
    return context


def excerpt(response: TestResponse, width: int = 60) -> str:
    content_type = response.headers.get("content-type") or ""
    if response.headers.get("content-encoding") or not content_type.startswith(
        ("text/", "application/json")
    ):
        return f"<{len(response.content)} bytes {content_type or 'no type'}>"
    text = " ".join(response.text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def key_headers(response: TestResponse) -> str:
    shown = []
    for name in ("content-type", "location", "content-encoding"):
        value = response.headers.get(name)
        if value:
            shown.append(f"{name}: {value}")
    cookies = response.headers.get_all("set-cookie")
    if cookies:
        shown.append(f"set-cookie ×{len(cookies)}: {', '.join(response.cookies)}")
    return "; ".join(shown)


def platform_of(path: Path) -> str | None:
    name = path.name
    if "response" in name or "webfn" in name or "xcloudbasecontext" in name:
        return None  # responses and header captures, not events
    for prefix, platform in (
        ("tencent-apigw-", "tencent_apigw"),
        ("tencent-funcurl-", "tencent_url"),
        ("cloudbase-http-", "cloudbase"),
        ("alibaba-fc3-http-", "alibaba_fc"),
    ):
        if name.startswith(prefix):
            return platform
    return None


def pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (a CJK character takes two)."""
    used = sum(2 if east_asian_width(char) in "WF" else 1 for char in text)
    return text + " " * max(0, width - used)


def event_request(event: Any) -> tuple[str, str]:
    """``(method, path)`` of a Tencent, CloudBase or FC 3.0 event (a dict, or FC's bytes)."""
    decoded = json.loads(event) if isinstance(event, bytes) else event
    method = decoded.get("httpMethod") or decoded["requestContext"]["http"]["method"]
    return method, decoded.get("path") or unquote(decoded["rawPath"])


def replay_samples(handler: Handler, verbose: bool) -> int:
    print("Part 1 — the sample events shipped inside faas_bridge (faas-bridge events)\n")
    count = 0
    for name in list_events():
        if name.endswith("/timer"):
            continue  # not HTTP: make_handler needs on_event= for it
        platform = name.partition("/")[0]
        event = load_event(name)
        method, target = event_request(event)
        response = parse_response(platform, handler(event, build_context(platform)))
        print(f"  {name:28} {method:5} {pad(target, 20)} → {response.status_code}  ", end="")
        print(key_headers(response) if verbose else excerpt(response))
        count += 1
    print()
    return count


def replay_reference_events(handler: Handler, verbose: bool) -> int:
    """The recorded public events, where that folder exists beside the checkout."""
    if not REFERENCE_EVENTS.is_dir():
        return 0
    print(f"Part 1b — recorded public events from {REFERENCE_EVENTS}\n")
    count = 0
    for path in sorted(REFERENCE_EVENTS.glob("*.json")):
        platform = platform_of(path)
        if platform is None:
            continue
        raw = path.read_bytes()
        # FC 3.0 hands the function bytes of JSON; the Tencent runtimes hand a dict.
        event: Any = raw if platform == "alibaba_fc" else json.loads(raw)
        method, target = event_request(event)
        response = parse_response(platform, handler(event, build_context(platform)))
        print(
            f"  {path.name:48} {platform:14} {method:5} {pad(target[:30], 30)} "
            f"→ {response.status_code}"
        )
        if verbose:
            print(f"      {key_headers(response)}")
        print(f"      {excerpt(response, 100)}")
        count += 1
    print()
    return count


def run_script(
    handler: Handler,
    verbose: bool,
    script: list[tuple[str, str, str, dict[str, Any]]] = SCRIPT,
    title: str = "Part 2 — one scripted session per platform (events as each gateway builds them)",
) -> int:
    print(title + "\n")
    count = 0
    for platform in PLATFORM_NAMES:
        print(f"  [{platform}]")
        for label, method, path, kwargs in script:
            event = build_event(platform, method, path, **kwargs)
            context = short_context(platform) if "deadline" in label else build_context(platform)
            response = parse_response(platform, handler(event, context))
            status = response.status_code
            print(f"    {label:24} {method:5} {pad(path, 20)} → {status}  {key_headers(response)}")
            print(f"    {'':24} {excerpt(response)}")
            count += 1
        print()
    return count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="show headers for the events of part 1"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)  # the /boom route's traceback is expected
    handler = load_index("flask_app").main_handler
    total = replay_samples(handler, args.verbose)
    total += replay_reference_events(handler, args.verbose)
    total += run_script(handler, args.verbose)
    print(f"{total} events answered by the Flask example.\n")

    fastapi_index = load_index("fastapi_app")
    answered = run_script(
        fastapi_index.main_handler,
        args.verbose,
        FASTAPI_SCRIPT,
        "Part 3 — the FastAPI example, one scripted session per platform",
    )
    answered += fc2_call(fastapi_index.handler)
    print(f"{answered} requests answered by the FastAPI example.")


def fc2_call(handler: Callable[..., Any]) -> int:
    """Alibaba FC 2.0 calls ``handler(environ, start_response)``: an ASGI app answers too."""
    from io import BytesIO

    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/items",
        "QUERY_STRING": "",
        "SERVER_NAME": "demo.cn-hangzhou.fc.aliyuncs.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "demo.cn-hangzhou.fc.aliyuncs.com",
        "wsgi.url_scheme": "https",
        "wsgi.input": BytesIO(),
        "fc.context": build_context("alibaba_fc"),
    }
    statuses: list[str] = []
    body = b"".join(handler(environ, lambda status, headers: statuses.append(status)))
    print("  [alibaba_fc 2.0: handler(environ, start_response)]")
    print(f"    {'FC 2.0 WSGI call':24} GET   {'/api/items':20} → {statuses[0]}")
    print(f"    {'':24} {body.decode()[:60]}\n")
    return 1


if __name__ == "__main__":
    main()
