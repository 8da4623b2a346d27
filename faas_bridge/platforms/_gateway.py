"""The gateway side shared by the formats' ``gateway`` modules: the request a builder turns
into an event, header folding as the gateways do it, and decoding an integrated response.

Never imported by the event path (only by the testing helpers, the emulator and the CLI).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import InvalidResponseError

if TYPE_CHECKING:
    from typing import Protocol

    class Gateway(Protocol):
        """What a format's ``gateway`` module provides."""

        DEFAULT_HOST: str  # the gateway's default domain, as real events show it
        REQUEST_ID_HEADER: str  # the response header carrying the gateway's request id
        SCHEME_HEADER: str  # the request header telling the function http or https
        STAGE_HOST: str | None  # a default domain that shows /<stage> in front of paths
        ATTACHMENT_ON_DEFAULT_DOMAIN: bool  # the default domain forces downloads

        def build(self, request: Draft) -> dict[str, Any]:
            """The event (a JSON object) the gateway sends for ``request``."""

        def deliver(self, event: dict[str, Any]) -> Any:
            """The event as the runtime hands it to the function (a dict, or bytes)."""

        def build_context(self, request_id: str, overrides: dict[str, Any]) -> Any:
            """The function context the runtime passes alongside."""

        def time_limit(self, context: Any) -> float:
            """The context's time limit, in seconds."""

        def with_time_limit(self, context: Any, seconds: float) -> Any:
            """``context`` with its time limit set to ``seconds``."""

        def decode(self, returned: Any) -> Decoded:
            """What the gateway sends the client for the handler's return value; raises
            :class:`InvalidResponseError` where the gateway would reject it."""

        def error_body(self, kind: str, status: int, reason: str) -> tuple[int, bytes]:
            """The status and body of the gateway's own error reply of ``kind``."""


__all__ = [
    "Decoded",
    "Draft",
    "decode_integrated",
    "describe",
    "find",
    "fold_keep_case",
    "fold_lower",
    "gateway",
    "json_body",
    "json_bytes",
    "tencent_query",
]


def gateway(name: str) -> Gateway:
    """The gateway module of the format ``name`` (a registered format name)."""
    module: Gateway = import_module(f"faas_bridge.platforms.{name}.gateway")
    return module


class Draft(NamedTuple):
    """The request a builder turns into one format's event (inputs already normalised)."""

    method: str
    path: str
    query: list[tuple[str, str | None]]
    headers: list[tuple[str, str]]
    body: bytes
    body_fields: tuple[str, bool]  # (event body, isBase64Encoded)
    client_ip: str
    host: str
    stage: str
    request_id: str


class Decoded(NamedTuple):
    """An HTTP response as the gateway sends it to the client."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def find(pairs: Iterable[tuple[str, str]], lower_name: str) -> str | None:
    for name, value in pairs:
        if name.lower() == lower_name:
            return value
    return None


def fold_lower(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as Tencent delivers them: lower-case names, repeats comma-joined."""
    folded: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in folded:
            folded[key] += ("; " if key == "cookie" else ",") + value
        else:
            folded[key] = value
    return folded


def fold_keep_case(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as FC delivers them: original case, repeats comma-joined."""
    folded: dict[str, str] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        key = spelling.setdefault(name.lower(), name)
        folded[key] = f"{folded[key]},{value}" if key in folded else value
    return folded


def tencent_query(pairs: list[tuple[str, str | None]]) -> dict[str, Any]:
    """Tencent's ``queryString``: a list for a repeated key, ``true`` for a key without ``=``."""
    query: dict[str, Any] = {}
    for key, value in pairs:
        item: Any = True if value is None else value
        if key in query:
            current = query[key]
            query[key] = [*current, item] if isinstance(current, list) else [current, item]
        else:
            query[key] = item
    return query


def describe(value: Any) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


def json_bytes(platform: str, returned: Any) -> bytes:
    """The runtime serialises the return value as JSON; what it cannot serialise fails."""
    try:
        return json.dumps(returned, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidResponseError(
            f"{platform}: the return value is not JSON-serialisable ({exc})"
        ) from None


def json_body(value: Any) -> bytes:
    """A compact JSON body for a gateway's own error reply."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def plain_json(platform: str, returned: Any) -> Decoded:
    """A return without ``statusCode`` sent as a 200 JSON body."""
    body = json_bytes(platform, returned)
    return Decoded(200, [("Content-Type", "application/json")], body)


def plain_text(text: str) -> Decoded:
    body = _utf8("the gateway", text)
    return Decoded(200, [("Content-Type", "text/plain; charset=utf-8")], body)


def decode_integrated(
    platform: str, returned: Mapping[str, Any], *, header_lists: bool, bytes_body: bool = False
) -> Decoded:
    """An integrated response (``statusCode``, ``headers``, ``isBase64Encoded``, ``body``)
    checked field by field. ``header_lists``: a list value repeats the header."""
    if not bytes_body or not isinstance(returned.get("body"), (bytes, bytearray)):
        json_bytes(platform, returned)
    status = returned["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise InvalidResponseError(
            f"{platform}: 'statusCode' must be an integer from 100 to 599, got {status!r}"
        )
    raw_headers = returned.get("headers")
    if raw_headers is None:
        raw_headers = {}
    if not isinstance(raw_headers, Mapping):
        raise InvalidResponseError(
            f"{platform}: 'headers' must be an object, got {describe(raw_headers)}"
        )
    pairs: list[tuple[str, str]] = []
    for name, value in raw_headers.items():
        if not isinstance(name, str):
            raise InvalidResponseError(f"{platform}: a header name is {describe(name)}")
        values = value if isinstance(value, list) and header_lists else [value]
        for item in values:
            if not isinstance(item, str):
                expected = "a string or a list of strings" if header_lists else "a string"
                raise InvalidResponseError(
                    f"{platform}: header {name!r} must be {expected}, got {value!r}"
                )
            if any(char in item or char in name for char in "\r\n\0"):
                raise InvalidResponseError(
                    f"{platform}: header {name!r} contains a line break or NUL character"
                )
            pairs.append((name, item))
    raw_body = returned.get("body")
    if raw_body is None:
        raw_body = ""
    if not isinstance(raw_body, str):
        raise InvalidResponseError(f"{platform}: 'body' must be a string, got {describe(raw_body)}")
    flag = returned.get("isBase64Encoded", False)
    if not isinstance(flag, bool):
        raise InvalidResponseError(
            f"{platform}: 'isBase64Encoded' must be true or false, got {flag!r}"
        )
    content: bytes
    if flag:
        try:
            content = base64.b64decode(raw_body, validate=True)
        except ValueError:
            raise InvalidResponseError(
                f"{platform}: 'body' is flagged isBase64Encoded but is not valid base64"
            ) from None
    else:
        content = _utf8(platform, raw_body)
    return Decoded(status, pairs, content)


def _utf8(platform: str, text: str) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidResponseError(f"{platform}: the body holds a lone surrogate") from None


def is_integrated(returned: Any) -> bool:
    return isinstance(returned, Mapping) and "statusCode" in returned
