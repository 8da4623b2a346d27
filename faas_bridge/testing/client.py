"""The test client: :class:`FaasClient` sends requests to a ``handler(event, context)`` as one
format's gateway would (events from :func:`~faas_bridge.testing.build_event`, returns decoded
by :func:`~faas_bridge.testing.parse_response`), with a cookie jar; :func:`as_handler` wraps
an app.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any, Callable
from urllib.parse import urlencode, urljoin, urlsplit

from ..errors import ConfigurationError
from ..platforms import resolve_platform_name
from ..platforms._gateway import find
from ..platforms._gateway import gateway as load_gateway
from .events import (
    HeadersInput,
    QueryInput,
    _header_pairs,
    _query_pairs,
    build_context,
    build_event,
)
from .responses import TestResponse, parse_response

__all__ = ["FaasClient", "Handler", "as_handler", "is_handler"]

Handler = Callable[[Any, Any], Any]


def as_handler(target: Any, **options: Any) -> Handler:
    """``target`` as a ``handler(event, context)``: a handler is returned as it is; a WSGI or
    ASGI app is wrapped with ``make_handler(target, **options)``."""
    if is_handler(target):
        handler: Handler = target
        return handler
    _refuse_non_apps(target)
    from ..handler import make_handler

    return make_handler(target, **options)


def _refuse_non_apps(target: Any) -> None:
    """A clear error for the two callables most often mistaken for apps: an app factory
    (``create_app``, called without arguments) and an ``async def handler(event, context)``
    (the cloud runtimes call handlers synchronously)."""
    import inspect

    if not inspect.isfunction(target):
        return
    name = getattr(target, "__qualname__", "the target")
    positional = [
        parameter
        for parameter in inspect.signature(target).parameters.values()
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
    ]
    if inspect.iscoroutinefunction(target):
        if len(positional) == 2:
            raise ConfigurationError(
                f"{name} is an async function of two arguments, like a handler(event, "
                "context); the cloud runtimes call handlers synchronously: write it as a "
                "plain def (or give the ASGI app, whose __call__ takes scope, receive, send)"
            )
        return
    if len(positional) < 2:
        raise ConfigurationError(
            f"{name} takes no request arguments, so it looks like an app factory: pass the "
            f"app it returns ({name}()); on the command line, module:{name}() or --factory"
        )


def is_handler(target: Any) -> bool:
    """Whether ``target`` is a cloud handler ``(event, context)`` rather than a WSGI/ASGI app.

    ``make_handler`` results are handlers; coroutine callables (ASGI) and callables whose
    parameters read ``(environ, start_response)`` or ``(scope, receive, send)`` are apps;
    any other callable taking two positional arguments is a handler.
    """
    from ..handler import Handler as BridgeHandler
    from ..handler import _looks_like_asgi

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


class FaasClient:
    """Send requests to a ``handler(event, context)`` as one platform's gateway would.

    ::

        client = FaasClient(main_handler, "alibaba_fc")   # or FaasClient(app, "alibaba_fc")
        response = client.post("/login?next=/", data={"user": "lin"})
        assert response.status_code == 302
        assert client.get("/me").json() == {"user": "lin"}

    ``handler`` may be a bare WSGI or ASGI app: it is wrapped with ``make_handler``. Each
    request becomes :func:`build_event` of the platform (a fresh request id, shared with the
    :func:`build_context` passed alongside unless ``context`` was given), and the handler's
    return goes through :func:`parse_response`, so a return the gateway would reject fails
    the test. Any handler works, not only faas_bridge's.

    The request methods take the keyword names of httpx, requests and Starlette's
    TestClient (``params``, ``headers``, ``cookies``, ``json``, ``data``, ``content``,
    ``files``, ``follow_redirects``) and Flask's ``query_string``; any other keyword is a
    ``TypeError``, so a test never passes against a request it did not mean to send.

    Cookies: the client keeps a simple jar, like a browser on one site: every
    ``Set-Cookie`` stores or (``Max-Age=0`` or an ``Expires`` in the past) deletes a
    cookie, and the jar is sent with every later request. ``Domain`` and ``Path`` are not
    applied. ``use_cookies=False`` turns the jar off; :attr:`cookies` can be read and edited.

    ``host``, ``client_ip``, ``stage``, ``is_base64`` and ``overrides`` (fields of the
    finished event) go to every :func:`build_event`; a request's own values win.
    """

    def __init__(
        self,
        handler: Any,
        platform: str,
        *,
        context: Any = None,
        use_cookies: bool = True,
        follow_redirects: bool = False,
        host: str | None = None,
        client_ip: str | None = None,
        stage: str | None = None,
        is_base64: bool | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> None:
        self.handler: Handler = as_handler(handler)
        self.platform = resolve_platform_name(platform)
        self.context = context
        self.use_cookies = use_cookies
        self.follow_redirects = follow_redirects
        self.cookies: dict[str, str] = {}
        self.event_options: dict[str, Any] = _given(
            host=host, client_ip=client_ip, stage=stage, is_base64=is_base64
        )
        self.overrides: dict[str, Any] = dict(overrides or {})

    def request(
        self,
        method: str,
        url: str,
        *,
        params: QueryInput | None = None,
        query: QueryInput | None = None,
        query_string: QueryInput | None = None,
        headers: HeadersInput | None = None,
        json: Any = None,
        data: Mapping[str, Any] | str | bytes | None = None,
        content: str | bytes | None = None,
        files: Mapping[str, Any] | None = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool | None = None,
        host: str | None = None,
        client_ip: str | None = None,
        stage: str | None = None,
        request_id: str | None = None,
        is_base64: bool | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> TestResponse:
        """Send one request; ``url`` is a path with an optional query (or a full URL).

        ``params`` (``query`` and Flask's ``query_string`` are the same) adds query
        parameters: a mapping (list values repeat the key), pairs or a string. ``json``
        sends a JSON body; ``content`` a raw body; ``data`` a raw body (str or bytes) or,
        as a mapping, an urlencoded form, or a multipart form together with ``files``
        (``name -> bytes``, a file object, ``(filename, content)`` or ``(filename,
        content, content_type)``). ``follow_redirects=True`` follows 3xx answers with a
        ``Location`` on the same host, as a browser behind the gateway would (303, and 301
        or 302 after a POST, become GET), and keeps the steps in ``response.history``.
        """
        if content is not None:
            if data is not None:
                raise ConfigurationError("give content= or data=, not both")
            data = content
        options = {
            **self.event_options,
            **_given(host=host, client_ip=client_ip, stage=stage, is_base64=is_base64),
        }
        if url.startswith(("http://", "https://")):
            parts = urlsplit(url)
            options["host"] = parts.netloc
            url = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        query_pairs: list[tuple[str, str | None]] = []
        for given in (params, query, query_string):
            query_pairs += _query_pairs(given)
        header_pairs = _header_pairs(headers)
        body = _encode_body(header_pairs, json, data, files)
        response = self._send(
            method,
            url,
            query_pairs,
            header_pairs,
            body,
            json,
            cookies,
            request_id,
            options,
            {**self.overrides, **(overrides or {})},
        )
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        history: list[TestResponse] = []
        while follow and response.is_redirect:
            target = self._redirect_target(response, url, options)
            if target is None:
                break
            if len(history) >= _MAX_REDIRECTS:
                raise ConfigurationError(f"more than {_MAX_REDIRECTS} redirects from {url}")
            history.append(response)
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method.upper() not in ("GET", "HEAD")
            ):
                method, body, json = "GET", b"", None
                header_pairs = [(n, v) for n, v in header_pairs if n.lower() != "content-type"]
            url = target
            response = self._send(
                method, url, [], header_pairs, body, json, cookies, None, options, {}
            )
        response.history = history
        return response

    def _send(
        self,
        method: str,
        url: str,
        query: list[tuple[str, str | None]],
        header_pairs: list[tuple[str, str]],
        body: bytes,
        json: Any,
        cookies: Mapping[str, str] | None,
        request_id: str | None,
        options: dict[str, Any],
        overrides: dict[str, Any],
    ) -> TestResponse:
        jar = {**self.cookies, **(cookies or {})} if self.use_cookies else dict(cookies or {})
        request_id = request_id or uuid.uuid4().hex
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
            **overrides,
        )
        context = self.context
        if context is None:
            context = build_context(self.platform, request_id=request_id)
        response = parse_response(self.platform, self.handler(event, context))
        if self.use_cookies:
            self._store_cookies(response.headers.get_all("set-cookie"))
        return response

    def _redirect_target(
        self, response: TestResponse, current: str, options: dict[str, Any]
    ) -> str | None:
        """The path (with query) a redirect leads to, or ``None`` for another host.

        On Tencent API Gateway's default domain the app's URLs carry ``/<stage>`` in front
        (the gateway takes it off again), so the client takes it off too.
        """
        location = response.headers.get("location") or ""
        parts = urlsplit(urljoin(current, location))
        host = options.get("host") or load_gateway(self.platform).DEFAULT_HOST
        if parts.netloc and parts.netloc.lower() != host.lower():
            return None
        path = parts.path or "/"
        if load_gateway(self.platform).STAGE_HOST:
            stage = "/" + (options.get("stage") or "release")
            if path == stage or path.startswith(stage + "/"):
                path = path[len(stage) :] or "/"
        return path + ("?" + parts.query if parts.query else "")

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


_MAX_REDIRECTS = 20


def _given(**values: Any) -> dict[str, Any]:
    """The keyword arguments that were given (not ``None``)."""
    return {name: value for name, value in values.items() if value is not None}


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
    has_type = find(header_pairs, "content-type") is not None
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
