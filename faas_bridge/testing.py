"""Offline testing helpers: events as each gateway builds them, and their responses decoded.

::

    from faas_bridge.testing import FaasClient, build_event, build_context, parse_response

    client = FaasClient(main_handler, "tencent_apigw")
    assert client.post("/api/items", json={"name": "x"}).status_code == 201

    event = build_event("alibaba_fc", "GET", "/api/items", query={"page": "2"})
    response = parse_response("alibaba_fc", main_handler(event, build_context("alibaba_fc")))

:func:`build_event` and :func:`parse_response` are the single description of each wire format
on the gateway side; the pytest plugin, the ``faas-bridge`` command and the local emulator
all go through them. Nothing here is imported by the event path; import it from tests only.
"""

from __future__ import annotations

import base64
import json as jsonlib
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from types import SimpleNamespace
from typing import Any, Callable, Union
from urllib.parse import quote, unquote, unquote_plus, urlencode, urlsplit

from .errors import BridgeError, ConfigurationError
from .http import is_text_type
from .platforms import PLATFORMS

__all__ = [
    "PLATFORM_NAMES",
    "FaasClient",
    "Headers",
    "InvalidResponseError",
    "TestResponse",
    "as_handler",
    "build_context",
    "build_event",
    "list_events",
    "load_event",
    "parse_response",
]

PLATFORM_NAMES: tuple[str, ...] = ("tencent_apigw", "tencent_url", "cloudbase", "alibaba_fc")

QueryInput = Union[
    str,
    Mapping[str, Union[str, Iterable[str], None]],
    Iterable[tuple[str, Union[str, None]]],
]
HeadersInput = Union[Mapping[str, Union[str, Iterable[str]]], Iterable[tuple[str, str]]]
CookiesInput = Union[Mapping[str, str], Iterable[tuple[str, str]]]
Handler = Callable[[Any, Any], Any]

# Characters a gateway leaves as they are when it percent-encodes a path (FC's rawPath).
_PATH_SAFE = "/:@!$&'()*+,;="
_EMPTY: frozenset[str] = frozenset()

# The gateways' own default domains, as they appear in real events.
_DEFAULT_HOSTS = {
    "tencent_apigw": "service-abcd1234-1250000000.gz.apigw.tencentcs.com",
    "tencent_url": "1250000000-abcd1234.ap-guangzhou.tencentscf.com",
    "cloudbase": "env-1a2b3c.ap-shanghai.app.tcloudbase.com",
    "alibaba_fc": "demo-trigger-abcdefghij.cn-hangzhou.fcapp.run",
}


class InvalidResponseError(BridgeError, AssertionError):
    """A handler returned something the platform's gateway would reject.

    It is an ``AssertionError`` too, so pytest reports it as a plain test failure.
    """


def _check_platform(platform: str) -> None:
    if platform not in PLATFORMS:
        raise ConfigurationError(
            f"unknown platform {platform!r}; expected one of: {', '.join(PLATFORM_NAMES)}"
        )


# --------------------------------------------------------------------------------------------
# Events


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
        platform: ``"tencent_apigw"``, ``"tencent_url"``, ``"cloudbase"`` or ``"alibaba_fc"``.
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
    _check_platform(platform)
    raw_path, _, raw_query = path.partition("?")
    query_pairs = _query_pairs(raw_query) if raw_query else []
    query_pairs += _query_pairs(query)
    header_pairs = _header_pairs(headers)
    if cookies:
        cookie_items = cookies.items() if isinstance(cookies, Mapping) else cookies
        header_pairs.append(("Cookie", "; ".join(f"{k}={v}" for k, v in cookie_items)))
    if json is not None:
        body = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
        if _find(header_pairs, "content-type") is None:
            header_pairs.append(("Content-Type", "application/json"))
    body_bytes = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    request = _Draft(
        method=method.upper(),
        path=raw_path if raw_path.startswith("/") else "/" + raw_path,
        query=query_pairs,
        headers=header_pairs,
        body=body_bytes,
        body_fields=_body_fields(body_bytes, _find(header_pairs, "content-type"), is_base64),
        client_ip=client_ip,
        host=host or _find(header_pairs, "host") or _DEFAULT_HOSTS[platform],
        stage=stage,
        request_id=request_id or uuid.uuid4().hex,
    )
    event = _BUILDERS[platform](request)
    _merge(event, overrides)
    if platform == "alibaba_fc":
        return jsonlib.dumps(event, ensure_ascii=False).encode("utf-8")
    return event


class _Draft:
    """The request a builder turns into one platform's event (inputs already normalised)."""

    __slots__ = (
        "body",
        "body_fields",
        "client_ip",
        "headers",
        "host",
        "method",
        "path",
        "query",
        "request_id",
        "stage",
    )

    def __init__(
        self,
        *,
        method: str,
        path: str,
        query: list[tuple[str, str | None]],
        headers: list[tuple[str, str]],
        body: bytes,
        body_fields: tuple[str, bool],
        client_ip: str,
        host: str,
        stage: str,
        request_id: str,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.body_fields = body_fields
        self.client_ip = client_ip
        self.host = host
        self.stage = stage
        self.request_id = request_id


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


def _find(pairs: Iterable[tuple[str, str]], lower_name: str) -> str | None:
    for name, value in pairs:
        if name.lower() == lower_name:
            return value
    return None


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


def _fold_lower(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as Tencent delivers them: lower-case names, repeats comma-joined."""
    folded: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in folded:
            folded[key] += ("; " if key == "cookie" else ",") + value
        else:
            folded[key] = value
    return folded


def _fold_keep_case(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as FC delivers them: original case, repeats comma-joined."""
    folded: dict[str, str] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        key = spelling.setdefault(name.lower(), name)
        folded[key] = f"{folded[key]},{value}" if key in folded else value
    return folded


def _tencent_query(pairs: list[tuple[str, str | None]]) -> dict[str, Any]:
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


def _tencent_apigw_event(request: _Draft) -> dict[str, Any]:
    text, is_base64 = request.body_fields
    headers = _fold_lower(request.headers)
    headers.setdefault("host", request.host)
    if request.body:
        headers.setdefault("content-length", str(len(request.body)))
    headers.setdefault("requestsource", "APIGW")
    headers.setdefault("x-api-scheme", "https")
    headers.setdefault("x-api-requestid", request.request_id)
    headers.setdefault("x-b3-traceid", request.request_id)
    headers.setdefault("x-qualifier", "$DEFAULT")
    label = request.host.split(".", 1)[0]
    service_id = label.rsplit("-", 1)[0] if label.startswith("service-") else "service-abcd1234"
    event: dict[str, Any] = {
        "headerParameters": {},
        "headers": headers,
        "httpMethod": request.method,
        "isBase64Encoded": is_base64,
        "path": request.path,
        "pathParameters": {},
        "queryString": _tencent_query(request.query),
        "queryStringParameters": {},
        "requestContext": {
            "httpMethod": "ANY",
            "identity": {},
            "path": "/",
            "serviceId": service_id,
            "sourceIp": request.client_ip,
            "stage": request.stage,
        },
    }
    if request.body:  # real events carry no "body" on a bodyless request
        event["body"] = text
    return event


def _tencent_url_event(request: _Draft) -> dict[str, Any]:
    text, is_base64 = request.body_fields
    headers = _fold_lower(request.headers)
    headers.setdefault("host", request.host)
    if request.body:
        headers.setdefault("content-length", str(len(request.body)))
    headers.setdefault("x-forwarded-proto", "https")
    headers["x-scf-remote-addr"] = request.client_ip  # set by the platform, never the client
    event: dict[str, Any] = {
        "headers": headers,
        "httpMethod": request.method,
        "path": request.path,
        "queryString": _tencent_query(request.query),
    }
    if request.body:
        event["body"] = text
    if is_base64:  # undocumented for function URLs: the flag API Gateway uses
        event["isBase64Encoded"] = True
    return event


def _cloudbase_event(request: _Draft) -> dict[str, Any]:
    text, is_base64 = request.body_fields
    headers = _fold_lower(request.headers)
    headers.setdefault("host", request.host)
    if request.body:
        headers.setdefault("content-length", str(len(request.body)))
    headers.setdefault("x-forwarded-for", request.client_ip)
    headers.setdefault("x-forwarded-proto", "https")
    headers.setdefault("x-cloudbase-request-id", request.request_id)
    label = request.host.split(".", 1)[0]
    env_id = label if "tcloudbase.com" in request.host else "env-1a2b3c"
    event: dict[str, Any] = {
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "queryStringParameters": _tencent_query(request.query),
        "requestContext": {
            "requestId": request.request_id,
            "envId": env_id,
            "appId": 1250000000,
            "uin": 100000000001,
        },
        "body": text,
        "isBase64Encoded": is_base64,
    }
    if not request.query:  # the documented event has no query field then
        del event["queryStringParameters"]
    return event


def _alibaba_fc_event(request: _Draft) -> dict[str, Any]:
    text, is_base64 = request.body_fields
    headers = _fold_keep_case(request.headers)
    if _find(headers.items(), "host") is None:
        headers["Host"] = request.host
    if request.body and _find(headers.items(), "content-length") is None:
        headers["Content-Length"] = str(len(request.body))
    if _find(headers.items(), "x-forwarded-proto") is None:
        headers["X-Forwarded-Proto"] = "https"
    query: dict[str, str] = {}
    for key, value in request.query:  # no raw query string: repeats comma-joined
        item = value or ""
        query[key] = f"{query[key]},{item}" if key in query else item
    if "%" in request.path:
        raw_path, decoded = quote(request.path, safe=_PATH_SAFE + "%"), unquote(request.path)
    else:
        raw_path, decoded = quote(request.path, safe=_PATH_SAFE), request.path
    domain = request.host.split(":", 1)[0]
    now = time.time()
    return {
        "version": "v1",
        "rawPath": raw_path,
        "headers": headers,
        "queryParameters": query,
        "body": text,
        "isBase64Encoded": is_base64,
        "requestContext": {
            "accountId": "1234567890123456",
            "domainName": domain,
            "domainPrefix": domain.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": decoded,
                "protocol": "HTTP/1.1",
                "sourceIp": request.client_ip,
                "userAgent": _find(headers.items(), "user-agent") or "",
            },
            "requestId": request.request_id,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "timeEpoch": str(int(now * 1000)),
        },
    }


_BUILDERS: dict[str, Callable[[_Draft], dict[str, Any]]] = {
    "tencent_apigw": _tencent_apigw_event,
    "tencent_url": _tencent_url_event,
    "cloudbase": _cloudbase_event,
    "alibaba_fc": _alibaba_fc_event,
}


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
    _check_platform(platform)
    request_id = overrides.pop("request_id", None) or str(uuid.uuid4())
    if platform == "alibaba_fc":
        context = SimpleNamespace(
            request_id=request_id,
            credentials=SimpleNamespace(access_key_id="", access_key_secret="", security_token=""),
            function=SimpleNamespace(name="demo", handler="index.handler", memory=512, timeout=60),
            service=SimpleNamespace(name="demo", log_project="", log_store=""),
            region="cn-hangzhou",
            account_id="1234567890123456",
        )
        for key, value in overrides.items():
            setattr(context, key, _namespace(value))
        return context
    context_dict: dict[str, Any] = {
        "memory_limit_in_mb": 128,
        "time_limit_in_ms": 3000,
        "request_id": request_id,
        "function_name": "demo",
        "function_version": "$LATEST",
        "namespace": "default",
        "tencentcloud_region": "ap-guangzhou",
        "tencentcloud_appid": "1250000000",
        "tencentcloud_uin": "100000000001",
        "environ": "SCF_NAMESPACE=default",
    }
    context_dict.update(overrides)
    return context_dict


def _namespace(value: Any) -> Any:
    if isinstance(value, Mapping):
        return SimpleNamespace(**{str(k): _namespace(v) for k, v in value.items()})
    return value


# --------------------------------------------------------------------------------------------
# Sample events shipped with the package


_SAMPLE_CASES: dict[str, str] = {
    "get_query": "GET of a Chinese path with a repeated key and a key without value",
    "json_post": "POST of a JSON object",
    "form_post": "POST of an urlencoded form with a repeated field",
    "binary_upload": "PUT of binary bytes (base64 in the event)",
    "cookies": "GET with two cookies in the Cookie header",
    "timer": "a timer trigger (not HTTP: make_handler needs on_event=)",
}


def list_events(platform: str | None = None) -> dict[str, str]:
    """The sample events shipped with faas_bridge, ``name -> description``.

    Names are ``"<platform>/<case>"`` (``"tencent_apigw/get_query"``); ``platform``
    narrows the list to one format.
    """
    if platform is not None:
        _check_platform(platform)
    from importlib.resources import files

    root = files("faas_bridge").joinpath("samples")
    found: dict[str, str] = {}
    for name in PLATFORM_NAMES if platform is None else (platform,):
        folder = root.joinpath(name)
        if not folder.is_dir():
            continue
        stems = {entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".json")}
        order = [case for case in _SAMPLE_CASES if case in stems] + sorted(
            stems - set(_SAMPLE_CASES)
        )
        for case in order:
            found[f"{name}/{case}"] = _SAMPLE_CASES.get(case, "")
    return found


def load_event(name: str) -> Any:
    """A sample event shipped with faas_bridge, as the platform hands it to the function.

    A dict for Tencent SCF and CloudBase; bytes of JSON for Alibaba FC. ``name`` is one of
    :func:`list_events` (``"alibaba_fc/json_post"``); a trailing ``.json`` is allowed.
    """
    from importlib.resources import files

    stem = name[:-5] if name.endswith(".json") else name
    platform, _, case = stem.partition("/")
    if platform not in PLATFORMS or not case or "/" in case or case.startswith("."):
        raise ConfigurationError(f"unknown sample event {name!r}; see list_events()")
    resource = files("faas_bridge").joinpath("samples").joinpath(platform).joinpath(case + ".json")
    if not resource.is_file():
        raise ConfigurationError(f"unknown sample event {name!r}; see list_events()")
    raw = resource.read_bytes()
    return raw if platform == "alibaba_fc" else jsonlib.loads(raw)


# --------------------------------------------------------------------------------------------
# Responses


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
    _check_platform(platform)
    if isinstance(returned, Mapping) and "statusCode" in returned:
        response = _integrated_response(platform, returned)
    else:
        response = _plain_response(platform, returned)
    response.raw = returned
    return response


def _plain_response(platform: str, returned: Any) -> TestResponse:
    if platform == "tencent_apigw":
        raise InvalidResponseError(
            "tencent_apigw: API Gateway answers 403 'Invalid scf response format' unless the "
            f"handler returns an object with 'statusCode' (got {_describe(returned)})"
        )
    if platform == "alibaba_fc" and isinstance(returned, (bytes, bytearray)):
        return TestResponse(
            200, Headers([("Content-Type", "application/octet-stream")]), bytes(returned)
        )
    if platform in ("cloudbase", "alibaba_fc") and isinstance(returned, str):
        text_plain = Headers([("Content-Type", "text/plain; charset=utf-8")])
        return TestResponse(200, text_plain, returned.encode("utf-8"))
    body = _json_bytes(platform, returned)
    return TestResponse(200, Headers([("Content-Type", "application/json")]), body)


def _json_bytes(platform: str, returned: Any) -> bytes:
    """The runtime serialises the return value as JSON; what it cannot serialise fails."""
    try:
        return jsonlib.dumps(returned, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidResponseError(
            f"{platform}: the return value is not JSON-serialisable ({exc})"
        ) from None


def _integrated_response(platform: str, returned: Mapping[str, Any]) -> TestResponse:
    if platform != "alibaba_fc" or not isinstance(returned.get("body"), (bytes, bytearray)):
        _json_bytes(platform, returned)
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
            f"{platform}: 'headers' must be an object, got {_describe(raw_headers)}"
        )
    pairs: list[tuple[str, str]] = []
    lists_allowed = platform != "alibaba_fc"
    for name, value in raw_headers.items():
        values = value if isinstance(value, list) and lists_allowed else [value]
        for item in values:
            if not isinstance(item, str):
                expected = "a string or a list of strings" if lists_allowed else "a string"
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
        raise InvalidResponseError(
            f"{platform}: 'body' must be a string, got {_describe(raw_body)}"
        )
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
        content = raw_body.encode("utf-8")
    return TestResponse(status, Headers(pairs), content)


def _describe(value: Any) -> str:
    return "None" if value is None else f"a {type(value).__name__}"


# --------------------------------------------------------------------------------------------
# Handlers and apps


def as_handler(target: Any, **options: Any) -> Handler:
    """``target`` as a ``handler(event, context)``: a handler is returned as it is; a WSGI or
    ASGI app is wrapped with ``make_handler(target, **options)``."""
    if is_handler(target):
        handler: Handler = target
        return handler
    from .handler import make_handler

    return make_handler(target, **options)


def is_handler(target: Any) -> bool:
    """Whether ``target`` is a cloud handler ``(event, context)`` rather than a WSGI/ASGI app.

    ``make_handler`` results are handlers; coroutine callables (ASGI) and callables whose
    parameters read ``(environ, start_response)`` or ``(scope, receive, send)`` are apps;
    any other callable taking two positional arguments is a handler.
    """
    from .handler import Handler as BridgeHandler
    from .handler import _looks_like_asgi

    if isinstance(target, BridgeHandler):
        return True
    if not callable(target) or _looks_like_asgi(target):
        return False
    import inspect

    try:
        parameters = [
            parameter
            for parameter in inspect.signature(target).parameters.values()
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return False
    names = [parameter.name for parameter in parameters]
    if names[:1] in (["environ"], ["env"], ["scope"]) or "start_response" in names:
        return False
    required = [p for p in parameters if p.default is p.empty]
    return len(required) <= 2 <= len(parameters)


# --------------------------------------------------------------------------------------------
# The test client


class FaasClient:
    """Send requests to a ``handler(event, context)`` as one platform's gateway would.

    ::

        client = FaasClient(main_handler, "alibaba_fc")
        response = client.post("/login?next=/", data={"user": "lin"})
        assert response.status_code == 302
        assert client.get("/me").json() == {"user": "lin"}

    Each request becomes :func:`build_event` of the platform (a fresh request id, shared
    with the :func:`build_context` passed alongside unless ``context`` was given), and the
    handler's return goes through :func:`parse_response`, so a return the gateway would
    reject fails the test. Any handler works, not only faas_bridge's.

    Cookies: the client keeps a simple jar, like a browser on one site: every
    ``Set-Cookie`` stores or (``Max-Age=0`` or an ``Expires`` in the past) deletes a
    cookie, and the jar is sent with every later request. ``Domain`` and ``Path`` are not
    applied. ``use_cookies=False`` turns the jar off; :attr:`cookies` can be read and edited.

    ``event_options`` (``host=``, ``client_ip=``, ``stage=``, overrides) go to every
    :func:`build_event`; a request's own keyword arguments win.
    """

    def __init__(
        self,
        handler: Handler,
        platform: str,
        *,
        context: Any = None,
        use_cookies: bool = True,
        **event_options: Any,
    ) -> None:
        _check_platform(platform)
        self.handler = handler
        self.platform = platform
        self.context = context
        self.use_cookies = use_cookies
        self.cookies: dict[str, str] = {}
        self.event_options = event_options

    def request(
        self,
        method: str,
        url: str,
        *,
        query: QueryInput | None = None,
        headers: HeadersInput | None = None,
        json: Any = None,
        data: Mapping[str, Any] | str | bytes | None = None,
        files: Mapping[str, Any] | None = None,
        cookies: Mapping[str, str] | None = None,
        **event_options: Any,
    ) -> TestResponse:
        """Send one request; ``url`` is a path with an optional query (or a full URL).

        ``json`` sends a JSON body; ``data`` a raw body (str or bytes) or, as a mapping, an
        urlencoded form, or a multipart form together with ``files`` (``name -> bytes``,
        a file object, ``(filename, content)`` or ``(filename, content, content_type)``).
        """
        options = {**self.event_options, **event_options}
        if url.startswith(("http://", "https://")):
            parts = urlsplit(url)
            options.setdefault("host", parts.netloc)
            url = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        header_pairs = _header_pairs(headers)
        body = _encode_body(header_pairs, json, data, files)
        jar = {**self.cookies, **(cookies or {})} if self.use_cookies else dict(cookies or {})
        request_id = options.pop("request_id", None) or uuid.uuid4().hex
        event = build_event(
            self.platform,
            method,
            url,
            query=query,
            headers=header_pairs,
            body=body,
            json=json,
            cookies=jar,
            request_id=request_id,
            **options,
        )
        context = self.context
        if context is None:
            context = build_context(self.platform, request_id=request_id)
        response = parse_response(self.platform, self.handler(event, context))
        if self.use_cookies:
            self._store_cookies(response.headers.get_all("set-cookie"))
        return response

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        """``request("GET", url, ...)``."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        """``request("POST", url, ...)``."""
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> TestResponse:
        """``request("PUT", url, ...)``."""
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> TestResponse:
        """``request("PATCH", url, ...)``."""
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> TestResponse:
        """``request("DELETE", url, ...)``."""
        return self.request("DELETE", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> TestResponse:
        """``request("HEAD", url, ...)``."""
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> TestResponse:
        """``request("OPTIONS", url, ...)``."""
        return self.request("OPTIONS", url, **kwargs)

    def _store_cookies(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            name, _, value = header.split(";", 1)[0].partition("=")
            name = name.strip()
            if name:
                if _cookie_expired(header):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value.strip()

    def __repr__(self) -> str:
        return f"<FaasClient {self.platform} handler={self.handler!r}>"


def _cookie_expired(set_cookie: str) -> bool:
    for attribute in set_cookie.split(";")[1:]:
        key, _, value = attribute.strip().partition("=")
        key = key.lower()
        if key == "max-age":
            try:
                return int(value) <= 0
            except ValueError:
                return False
        if key == "expires":
            from email.utils import parsedate_to_datetime

            try:
                return parsedate_to_datetime(value).timestamp() < time.time()
            except (TypeError, ValueError, IndexError):
                return False
    return False


def _encode_body(
    header_pairs: list[tuple[str, str]],
    json: Any,
    data: Mapping[str, Any] | str | bytes | None,
    files: Mapping[str, Any] | None,
) -> bytes:
    """The body for ``data``/``files``, adding their Content-Type to ``header_pairs``."""
    if json is not None:
        if data is not None or files:
            raise ConfigurationError("give json= or data=/files=, not both")
        return b""  # build_event serialises json
    has_type = _find(header_pairs, "content-type") is not None
    if files:
        if data is not None and not isinstance(data, Mapping):
            raise ConfigurationError("with files=, data= must be a mapping of form fields")
        body, content_type = _multipart(data or {}, files)
        if not has_type:
            header_pairs.append(("Content-Type", content_type))
        return body
    if isinstance(data, Mapping):
        if not has_type:
            header_pairs.append(("Content-Type", "application/x-www-form-urlencoded"))
        return urlencode(_form_pairs(data)).encode("ascii")
    if isinstance(data, str):
        return data.encode("utf-8")
    return bytes(data or b"")


def _form_pairs(fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in fields.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        pairs.extend((name, str(item)) for item in values)
    return pairs


def _multipart(fields: Mapping[str, Any], files: Mapping[str, Any]) -> tuple[bytes, str]:
    boundary = "faas-bridge-" + uuid.uuid4().hex
    parts: list[bytes] = []

    def part(disposition: str, content: bytes, content_type: str | None) -> None:
        head = f"--{boundary}\r\nContent-Disposition: form-data; {disposition}\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        parts.append(head.encode("utf-8") + b"\r\n" + content + b"\r\n")

    for name, value in _form_pairs(fields):
        part(f'name="{_quote_param(name)}"', value.encode("utf-8"), None)
    for name, spec in files.items():
        filename, content, content_type = _file_spec(name, spec)
        part(
            f'name="{_quote_param(name)}"; filename="{_quote_param(filename)}"',
            content,
            content_type or "application/octet-stream",
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode("ascii")
    return body, f"multipart/form-data; boundary={boundary}"


def _file_spec(name: str, spec: Any) -> tuple[str, bytes, str | None]:
    content_type: str | None = None
    if isinstance(spec, tuple):
        filename, content = spec[0], spec[1]
        if len(spec) > 2:
            content_type = spec[2]
    else:
        filename, content = getattr(spec, "name", None) or name, spec
    if hasattr(content, "read"):
        content = content.read()
    if isinstance(content, str):
        content = content.encode("utf-8")
    return str(filename).replace("\\", "/").rsplit("/", 1)[-1], bytes(content), content_type


def _quote_param(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "").replace("\n", "")
