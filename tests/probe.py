"""Probe apps for the differential tests: the same behaviour written in Flask and Django.

Each app answers ``/<anything>`` with a JSON report of what it saw (method, path, query
multi-dict, headers, cookies, body) and shapes its response from the ``respond`` query
parameter, so one request exercises both directions.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from typing import Any, Callable

REPORTED_HEADER_PREFIX = "x-probe-"

# respond= value -> (status, headers, body) built from the report bytes
RESPONSES = ("json", "cookies", "gzip", "image", "no-content", "redirect", "binary-echo", "text")

PNG_BYTES = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def report(
    method: str,
    path: str,
    script_root: str,
    query: dict[str, list[str]],
    headers: dict[str, str],
    cookies: dict[str, str],
    body: bytes,
    environ: dict[str, Any],
) -> dict[str, Any]:
    return {
        "method": method,
        "path": path,
        "script_root": script_root,
        "query": {key: sorted(values) for key, values in query.items()},
        "headers": {
            name.lower(): value
            for name, value in headers.items()
            if name.lower().startswith(REPORTED_HEADER_PREFIX)
        },
        "cookies": cookies,
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body_length": len(body),
        "content_type": headers.get("Content-Type", ""),
    }


def shape_response(
    kind: str, report_bytes: bytes, body: bytes
) -> tuple[int, list[tuple[str, str]], bytes]:
    if kind == "cookies":
        return (
            200,
            [
                ("Content-Type", "application/json"),
                ("Set-Cookie", "session=abc123; Path=/; HttpOnly"),
                ("Set-Cookie", "theme=dark; Expires=Wed, 21 Oct 2037 07:28:00 GMT; Path=/"),
                ("Set-Cookie", "lang=zh-CN; Path=/; SameSite=Lax"),
            ],
            report_bytes,
        )
    if kind == "gzip":
        return (
            200,
            [("Content-Type", "application/json"), ("Content-Encoding", "gzip")],
            gzip.compress(report_bytes, mtime=0),
        )
    if kind == "image":
        return 200, [("Content-Type", "image/png")], PNG_BYTES
    if kind == "no-content":
        return 204, [], b""
    if kind == "redirect":
        return 302, [("Location", "/elsewhere?x=1"), ("Content-Type", "text/plain")], b"moved"
    if kind == "binary-echo":
        return 200, [("Content-Type", "application/octet-stream")], body
    if kind == "text":
        return 200, [("Content-Type", "text/plain; charset=utf-8")], "纯文本 ✓".encode()
    return 200, [("Content-Type", "application/json")], report_bytes


def make_flask_app() -> Any:
    from flask import Flask, Response, request

    app = Flask("probe")

    @app.route(
        "/", defaults={"anything": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
    )
    @app.route("/<path:anything>", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
    def probe(anything: str) -> Response:
        body = request.get_data()
        seen = report(
            request.method,
            request.path,
            request.script_root,
            request.args.to_dict(flat=False),
            dict(request.headers),
            dict(request.cookies),
            body,
            request.environ,
        )
        status, headers, content = shape_response(
            request.args.get("respond", "json"), json.dumps(seen, sort_keys=True).encode(), body
        )
        response = Response(content, status=status)
        response.headers.clear()
        for name, value in headers:
            response.headers.add(name, value)
        return response

    return app


_django_configured = False


def make_django_wsgi_app() -> Callable[..., Any]:
    global _django_configured
    import django
    from django.conf import settings

    if not _django_configured:
        if not settings.configured:
            settings.configure(
                DEBUG=False,
                SECRET_KEY="probe",
                ALLOWED_HOSTS=["*"],
                ROOT_URLCONF=__name__,
                MIDDLEWARE=[],
                INSTALLED_APPS=[],
                USE_TZ=True,
                DATA_UPLOAD_MAX_MEMORY_SIZE=None,
            )
        django.setup()
        _django_configured = True
    from django.core.handlers.wsgi import WSGIHandler

    handler: Callable[..., Any] = WSGIHandler()
    return handler


def django_view(request: Any, anything: str = "") -> Any:
    from django.http import HttpResponse

    body = request.body
    query = {key: request.GET.getlist(key) for key in request.GET}
    seen = report(
        request.method,
        request.path,
        request.META.get("SCRIPT_NAME", ""),
        query,
        dict(request.headers),
        dict(request.COOKIES),
        body,
        request.META,
    )
    status, headers, content = shape_response(
        request.GET.get("respond", "json"), json.dumps(seen, sort_keys=True).encode(), body
    )
    response = HttpResponse(content, status=status)
    del response["Content-Type"]
    for name, value in headers:
        if name == "Set-Cookie":
            cookie_name, _, rest = value.partition("=")
            response.cookies[cookie_name] = rest.split(";", 1)[0]
            for attribute in rest.split(";")[1:]:
                key, _, attr_value = attribute.strip().partition("=")
                morsel_key = {"httponly": "httponly", "samesite": "samesite"}.get(
                    key.lower(), key.lower()
                )
                response.cookies[cookie_name][morsel_key] = attr_value or True
        else:
            response[name] = value
    return response


def _urlpatterns() -> list[Any]:
    from django.urls import re_path

    return [re_path(r"^(?P<anything>.*)$", django_view)]


def __getattr__(name: str) -> Any:  # Django reads ROOT_URLCONF.urlpatterns lazily
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)
