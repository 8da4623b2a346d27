from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

EVENTS = Path(__file__).parent / "events"

Environ = dict[str, Any]


def load_event(name: str) -> Any:
    """An authored fixture event; FC events as the bytes the FC runtime passes."""
    raw = (EVENTS / name).read_bytes()
    return raw if name.startswith("alibaba_fc") else json.loads(raw)


class Spy:
    """A WSGI app that records the environ it was called with and answers a fixed response."""

    def __init__(
        self,
        status: str = "200 OK",
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"ok",
    ) -> None:
        self.status = status
        self.headers = headers if headers is not None else [("Content-Type", "text/plain")]
        self.body = body
        self.environ: Environ = {}
        self.input = b""

    def __call__(self, environ: Environ, start_response: Callable[..., Any]) -> list[bytes]:
        self.environ = environ
        self.input = environ["wsgi.input"].read()
        start_response(self.status, self.headers)
        return [self.body]


@pytest.fixture
def spy() -> Spy:
    return Spy()


# Alibaba's formats: FC's runtimes pass their events as bytes of JSON, their headers are
# string to string and repeated query keys arrive comma-joined (API Gateway: unverified).
ON_FC = ("alibaba_fc", "alibaba_apigw")
