"""The Flask app that ``benchmarks/web_servers.py`` serves with each web server.

``GET /`` answers a small JSON document; ``GET /events`` streams five server-sent events
0.2 s apart from a generator, so a server that buffers the body shows the first event late.
``POST /echo`` reads the body (what a stalled upload holds up). ``asgi_app()`` wraps the
same app for uvicorn with a2wsgi (a factory, so that importing this module for the WSGI
servers does not need a2wsgi).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, jsonify, request

EVENTS = 5
EVENT_INTERVAL = 0.2  # seconds between two events

app = Flask(__name__)


@app.get("/")
def index() -> Response:
    """A plain JSON answer: the latency and throughput figures."""
    return jsonify(ok=True, items=list(range(20)))


@app.get("/events")
def events() -> Response:
    """Server-sent events from a generator: the time-to-first-event figure."""

    def stream() -> Iterator[str]:
        for number in range(EVENTS):
            if number:
                time.sleep(EVENT_INTERVAL)
            yield f"data: {number}\n\n"

    return Response(stream(), mimetype="text/event-stream")


@app.post("/echo")
def echo() -> Response:
    """Reads the whole body: the request a stalled upload would be."""
    return jsonify(size=len(request.get_data()))


def asgi_app() -> Any:
    """The app behind a2wsgi's WSGI-to-ASGI bridge (``uvicorn --factory``)."""
    return importlib.import_module("a2wsgi").WSGIMiddleware(app)
