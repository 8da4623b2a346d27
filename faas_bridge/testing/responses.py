"""Responses as the client of a gateway receives them: :func:`parse_response` decodes what a
handler returned (through the format's ``platforms/<format>/gateway.py``) into a
:class:`TestResponse` with case-insensitive, repeat-keeping :class:`Headers`.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import InvalidResponseError
from ..platforms import resolve_platform_name
from ..platforms._gateway import gateway as load_gateway

__all__ = ["Headers", "InvalidResponseError", "TestResponse", "parse_response"]


class Headers:
    """A case-insensitive header multi-dict that keeps every repeat (every Set-Cookie)."""

    __slots__ = ("_pairs",)

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        self._pairs = list(pairs)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``."""
        lower = name.lower()
        for key, value in self._pairs:
            if key.lower() == lower:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``, in order."""
        lower = name.lower()
        return [value for key, value in self._pairs if key.lower() == lower]

    getlist = get_all

    def __getitem__(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._pairs)

    def __len__(self) -> int:
        return len(self._pairs)

    def items(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` pair, repeats included."""
        return list(self._pairs)

    def __repr__(self) -> str:
        return f"Headers({self._pairs!r})"


class TestResponse:
    """A response as the client of the platform's gateway would receive it.

    ``raw`` is what the handler returned, before the gateway's decoding (``None`` when the
    response was built some other way).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, status_code: int, headers: Headers, content: bytes, raw: Any = None) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.raw = raw
        self.history: list[TestResponse] = []  # the redirects followed to get here

    @property
    def data(self) -> bytes:
        """The body, as Flask's test client names it (same as :attr:`content`)."""
        return self.content

    @property
    def is_redirect(self) -> bool:
        """A 3xx status with a ``Location`` header."""
        return 300 <= self.status_code < 400 and "location" in self.headers

    @property
    def text(self) -> str:
        """The body decoded with the Content-Type charset (UTF-8 by default)."""
        return self.content.decode(self.charset, "replace")

    @property
    def charset(self) -> str:
        content_type = self.headers.get("content-type") or ""
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"')
        return "utf-8"

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonlib.loads(self.content)

    def get_json(self) -> Any:
        """:meth:`json`, as Flask's test client names it."""
        return self.json()

    @property
    def cookies(self) -> dict[str, str]:
        """``name -> value`` of every ``Set-Cookie`` in the response."""
        cookies: dict[str, str] = {}
        for header in self.headers.get_all("set-cookie"):
            name, _, value = header.split(";", 1)[0].partition("=")
            cookies[name.strip()] = value.strip()
        return cookies

    def __repr__(self) -> str:
        return f"<TestResponse {self.status_code} {len(self.content)} bytes>"


def parse_response(platform: str, returned: Any) -> TestResponse:
    """Decode what a handler returned the way ``platform``'s gateway does.

    An integrated response (an object with ``statusCode``) is checked field by field:
    list-valued headers become repeated headers (not on Alibaba FC, whose headers are string
    to string), a base64 body is decoded. Any other return gets the platform's default
    treatment: CloudBase sends a string as ``text/plain`` and other values as JSON; the
    function URL sends JSON; Alibaba FC (unverified) sends bytes and strings as they are and
    other values as JSON; API Gateway rejects it. A return the gateway would reject raises
    :class:`InvalidResponseError` naming the field.
    """
    decoded = load_gateway(resolve_platform_name(platform)).decode(returned)
    return TestResponse(decoded.status, Headers(decoded.headers), decoded.body, returned)
