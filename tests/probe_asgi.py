"""ASGI probe apps for the differential tests: the behaviour of ``tests/probe.py`` written in
Starlette, FastAPI and Django (ASGI handler).

Each app answers ``/<anything>`` with a JSON report of what it saw (method, path, query
multi-dict, headers, cookies, body) and shapes its response from the ``respond`` query
parameter, exactly as the WSGI probes do.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from . import probe

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]


async def _starlette_probe(request: Request) -> Response:
    body = await request.body()
    query: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        query.setdefault(key, []).append(value)
    seen = probe.report(
        request.method,
        request.scope["path"],
        request.scope.get("root_path", ""),
        query,
        {name.title(): value for name, value in request.headers.items()},
        dict(request.cookies),
        body,
        dict(request.scope),
    )
    status, headers, content = probe.shape_response(
        request.query_params.get("respond", "json"), json.dumps(seen, sort_keys=True).encode(), body
    )
    response = Response(content, status_code=status)
    response.raw_headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
    ]
    if status != 204:
        response.raw_headers.append((b"content-length", str(len(content)).encode()))
    return response


def make_starlette_app() -> Any:
    return Starlette(routes=[Route("/{anything:path}", _starlette_probe, methods=METHODS)])


def make_fastapi_app() -> Any:
    app = FastAPI(openapi_url=None)

    @app.api_route("/{anything:path}", methods=METHODS)
    async def probe_route(request: Request, anything: str) -> Response:
        return await _starlette_probe(request)

    return app


def make_django_asgi_app() -> Any:
    probe.make_django_wsgi_app()  # configures settings and runs django.setup() once
    from django.core.handlers.asgi import ASGIHandler

    return ASGIHandler()
