"""Events and contexts as each gateway builds them: :func:`build_event`, :func:`build_context`.

The user's request (method, path, query, headers, body in any of the usual shapes) is
normalised here, once, into a :class:`~faas_bridge.platforms._gateway.Draft`; the format's
own ``platforms/<format>/gateway.py`` turns it into that format's event.
"""

from __future__ import annotations

import base64
import json as jsonlib
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Union
from urllib.parse import unquote_plus

from ..errors import ConfigurationError
from ..http import is_text_type
from ..platforms import resolve_platform_name
from ..platforms._gateway import Draft, find
from ..platforms._gateway import gateway as load_gateway

__all__ = ["CookiesInput", "HeadersInput", "QueryInput", "build_context", "build_event"]

QueryInput = Union[
    str,
    Mapping[str, Union[str, Iterable[str], None]],
    Iterable[tuple[str, Union[str, None]]],
]
HeadersInput = Union[Mapping[str, Union[str, Iterable[str]]], Iterable[tuple[str, str]]]
CookiesInput = Union[Mapping[str, str], Iterable[tuple[str, str]]]

_EMPTY: frozenset[str] = frozenset()


def build_event(
    platform: str,
    method: str = "GET",
    path: str = "/",
    *,
    query: QueryInput | None = None,
    headers: HeadersInput | None = None,
    body: bytes | str = b"",
    json: Any = None,
    cookies: CookiesInput | None = None,
    client_ip: str = "203.0.113.10",
    host: str | None = None,
    stage: str = "release",
    request_id: str | None = None,
    is_base64: bool | None = None,
    **overrides: Any,
) -> Any:
    """An HTTP event exactly as ``platform``'s gateway would deliver it to the function.

    Args:
        platform: a format name (``PLATFORM_NAMES``: ``"tencent_apigw"``...) or a cloud name
            that names one format (``"alibaba"``).
        method: the HTTP method.
        path: the path as the client sent it, decoded (``"/你好"``) or percent-encoded
            (any ``%`` means encoded, as on the handler side); it may carry ``?query``.
        query: a raw query string, a mapping whose values may be lists (``None`` is a key
            without ``=``, like ``?flag``), or a list of ``(key, value)`` pairs.
        headers: a mapping (list values repeat the header) or a list of pairs.
        body: the request body; ``json`` instead serialises a value and sets Content-Type.
        cookies: sent as one ``Cookie`` header, after any given in ``headers``.
        client_ip: the address the platform reports in its trusted field.
        host: the ``Host`` header; the platform's default domain when omitted.
        stage: the Tencent API Gateway stage (``release``, ``test``, ``prepub``).
        request_id: the platform's request id (random when omitted).
        is_base64: force the body to travel base64-encoded (``True``) or as text
            (``False``); by default it is base64 when its Content-Type is not a text type
            or it is not UTF-8, which is what gateways configured for binary bodies do.
        overrides: fields of the finished event to replace; a mapping merges into the
            event's mapping of the same name (``requestContext={"stage": "test"}``).

    Returns a dict, except for Alibaba FC: bytes of JSON, as the FC 3.0 runtime passes them.
    """
    platform = resolve_platform_name(platform)
    gateway = load_gateway(platform)
    raw_path, _, raw_query = path.partition("?")
    query_pairs = _query_pairs(raw_query) if raw_query else []
    query_pairs += _query_pairs(query)
    header_pairs = _header_pairs(headers)
    if cookies:
        cookie_items = cookies.items() if isinstance(cookies, Mapping) else cookies
        header_pairs.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookie_items)))
    if json is not None:
        body = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
        if find(header_pairs, "content-type") is None:
            header_pairs.append(("Content-Type", "application/json"))
    body_bytes = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    request = Draft(
        method=method.upper(),
        path=raw_path if raw_path.startswith("/") else "/" + raw_path,
        query=query_pairs,
        headers=header_pairs,
        body=body_bytes,
        body_fields=_body_fields(body_bytes, find(header_pairs, "content-type"), is_base64),
        client_ip=client_ip,
        host=host or find(header_pairs, "host") or gateway.DEFAULT_HOST,
        stage=stage,
        request_id=request_id or uuid.uuid4().hex,
    )
    event = gateway.build(request)
    _merge(event, overrides)
    return gateway.deliver(event)


def _query_pairs(query: QueryInput | None) -> list[tuple[str, str | None]]:
    if not query:
        return []
    if isinstance(query, str):
        pairs: list[tuple[str, str | None]] = []
        for part in query.lstrip("?").split("&"):
            if part:
                name, eq, text = part.partition("=")
                pairs.append((unquote_plus(name), unquote_plus(text) if eq else None))
        return pairs
    if isinstance(query, Mapping):
        pairs = []
        for key, value in query.items():
            if value is None or isinstance(value, str):
                pairs.append((key, value))
            else:
                pairs.extend((key, item) for item in value)
        return pairs
    return list(query)


def _header_pairs(headers: HeadersInput | None) -> list[tuple[str, str]]:
    if not headers:
        return []
    if not isinstance(headers, Mapping):
        return list(headers)
    pairs: list[tuple[str, str]] = []
    for name, value in headers.items():
        if isinstance(value, str):
            pairs.append((name, value))
        else:
            pairs.extend((name, item) for item in value)
    return pairs


def _body_fields(body: bytes, content_type: str | None, is_base64: bool | None) -> tuple[str, bool]:
    """``(body, isBase64Encoded)`` as the gateway puts the request body into the event."""
    if not body:
        return "", False
    if is_base64 is None:
        is_base64 = content_type is not None and not is_text_type(content_type, _EMPTY)
    if not is_base64:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            if is_base64 is False:
                raise ConfigurationError(
                    "the body is not UTF-8 text, so it can only travel base64-encoded "
                    "(is_base64=False was given)"
                ) from None
    return base64.b64encode(body).decode("ascii"), True


def _merge(target: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    """Replace fields of ``target``; a mapping merges into an existing dict field."""
    for key, value in overrides.items():
        current = target.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            merged = dict(current)
            _merge(merged, value)
            target[key] = merged
        else:
            target[key] = value


def build_context(platform: str, **overrides: Any) -> Any:
    """A function context like the platform's runtime passes.

    A dict on Tencent SCF and CloudBase (``request_id``, ``function_name``, ...); an object
    with attributes on Alibaba FC (``request_id``, ``function.name``, ``credentials``...),
    where a mapping given as an override becomes a nested attribute object.
    """
    gateway = load_gateway(resolve_platform_name(platform))
    request_id = overrides.pop("request_id", None) or str(uuid.uuid4())
    return gateway.build_context(request_id, overrides)
