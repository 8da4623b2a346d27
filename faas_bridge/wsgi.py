"""The WSGI runner: a PEP 3333 environ from a :class:`Request`, the app called, its
response collected into a :class:`Response`. Knows nothing about clouds."""

from __future__ import annotations

import sys
from io import BytesIO

from .errors import AppResponseError, MalformedEventError
from .http import HeaderList, Request, Response, is_token, remember

__all__ = ["WsgiRunner", "build_environ", "wsgi_str"]

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds of cold start; annotations only
    from collections.abc import Iterable
    from types import TracebackType
    from typing import Any, Callable, Optional

    ExcInfo = tuple[type[BaseException], BaseException, Optional[TracebackType]]
    StartResponse = Callable[..., Callable[[bytes], object]]
    WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# Header name -> environ key, filled as names are seen (they repeat across calls).
_ENVIRON_KEYS: dict[str, str] = {}
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


# Header-name tuple -> environ keys, for requests whose names do not repeat: clients send
# the same set of headers call after call, so the conversion is done once per set.
_PLANS: dict[tuple[str, ...], tuple[str, ...]] = {}
# The names of a flat header dict joined by ":" (no token holds one) -> (environ keys, an
# environ template that already holds those keys): copying it gives a dict of the final
# size, so the headers only replace values. Kept for sets of up to _TEMPLATE_NAMES names.
_TEMPLATES: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {}
_TEMPLATE_NAMES = 48
_ENVIRON_TEMPLATE: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "SCRIPT_NAME": "",
    "PATH_INFO": "/",
    "QUERY_STRING": "",
    "SERVER_NAME": "localhost",
    "SERVER_PORT": "443",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "https",
    "wsgi.input": None,
    "wsgi.input_terminated": True,
    "wsgi.errors": None,
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
    "faas_bridge.event": None,
    "faas_bridge.context": None,
    "faas_bridge.platform": "",
    "faas_bridge.request_id": "",
}


def _plan(names: tuple[str, ...]) -> tuple[str, ...]:
    """The environ keys of these header names, or ``()`` when two names share a key or a
    name holds an underscore or is no ASCII token (the general way drops those)."""
    if not all(map(is_token, names)) or "_" in "".join(names):
        return remember(_PLANS, names, ())
    keys = tuple(map(_environ_key, names))
    plan = keys if len(set(keys)) == len(keys) else ()
    return remember(_PLANS, names, plan)


def _template(joined: str, names: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The ``_TEMPLATES`` entry of these header names (``()`` keys: no plan for them)."""
    plan = _PLANS.get(names)
    if plan is None:
        plan = _plan(names)
    template = _ENVIRON_TEMPLATE.copy()
    template.update(dict.fromkeys(plan, ""))
    entry = (plan, template)
    if len(names) <= _TEMPLATE_NAMES:
        remember(_TEMPLATES, joined, entry)
    return entry


def _environ_key(name: str) -> str:
    key = _ENVIRON_KEYS.get(name)
    if key is None:
        if type(name) is not str:
            raise MalformedEventError(f"a header name is a {type(name).__name__}, not a string")
        key = "HTTP_" + name.upper().replace("-", "_")
        if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            key = key[5:]
        remember(_ENVIRON_KEYS, name, key)
    return key


def wsgi_str(text: str) -> str:
    """A decoded str as PEP 3333 carries it: its UTF-8 bytes read as latin-1."""
    if text.isascii():
        return text
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def build_environ(request: Request) -> dict[str, Any]:
    """The WSGI environ for a request, as gunicorn would build it from the same HTTP."""
    body = request.body
    root_path = request.root_path
    path = request.path
    header_map = request.header_map
    headers: Iterable[tuple[str, str]] = ()
    if header_map:  # a flat dict of ASCII strings (see Request): names cannot repeat
        # A prepared dict per set of names, copied, is cheaper than building one key by key.
        try:
            joined = ":".join(header_map)
        except TypeError:  # a name that is no string: the careful way below reports it
            joined = ""
        entry = _TEMPLATES.get(joined) if joined else None
        if entry is None:
            entry = _template(joined, tuple(header_map)) if joined else ((), _ENVIRON_TEMPLATE)
        plan = entry[0]
        # Equal joined names are equal names when the counts match: the names of a plan
        # are tokens, which hold no ":".
        if plan and len(plan) == len(header_map):
            environ = entry[1].copy()
            environ.update(zip(plan, header_map.values()))  # the usual case, at C speed
        else:
            environ = _ENVIRON_TEMPLATE.copy()
            headers = header_map.items()
    else:
        environ = _ENVIRON_TEMPLATE.copy()
        if header_map is None and request.headers:  # pairs: names may repeat
            names, values = zip(*request.headers)
            keys = _PLANS.get(names)
            if keys is None:
                keys = _plan(names)
            if keys and "".join(values).isascii():
                environ.update(zip(keys, values))
            else:
                headers = request.headers
    environ["REQUEST_METHOD"] = request.method
    environ["SCRIPT_NAME"] = root_path if root_path.isascii() else wsgi_str(root_path)
    environ["PATH_INFO"] = path if path.isascii() else wsgi_str(path)
    environ["QUERY_STRING"] = request.query_string.decode("latin-1")
    environ["SERVER_NAME"], port = request.server
    environ["SERVER_PORT"] = "443" if port == 443 else str(port)
    environ["wsgi.url_scheme"] = request.scheme
    environ["wsgi.input"] = BytesIO(body)
    environ["wsgi.errors"] = sys.stderr
    environ["faas_bridge.event"] = request.event
    environ["faas_bridge.context"] = request.context
    environ["faas_bridge.platform"] = request.platform
    environ["faas_bridge.request_id"] = request.request_id
    if request.client is not None:
        environ["REMOTE_ADDR"] = request.client[0]
    for name, value in headers:
        if "_" in name or not is_token(name):
            # "X_Forwarded_For" would land on the key of "X-Forwarded-For", and a non-ASCII
            # name (the Kelvin sign for "K") may fold onto an ASCII one: a client could
            # forge a header the gateway sets. Dropped, as gunicorn and nginx do.
            continue
        key = _environ_key(name)
        if not value.isascii():
            try:
                value = value.encode("utf-8", "surrogateescape").decode("latin-1")
            except UnicodeEncodeError:  # only a forged event holds an unpaired surrogate
                raise MalformedEventError(f"header {name!r} is not valid Unicode text") from None
        if key in environ:  # a repeated header (or a clash with CONTENT_LENGTH, reset below)
            previous = environ[key]
            value = f"{previous}; {value}" if key == "HTTP_COOKIE" else f"{previous},{value}"
        environ[key] = value
    # The body's real length: gateways' copies of Content-Length can be stale.
    if body or request.method not in _BODYLESS_METHODS:
        environ["CONTENT_LENGTH"] = str(len(body))
    elif "CONTENT_LENGTH" in environ:
        del environ["CONTENT_LENGTH"]
    return environ


class _Collector(Response):
    """``start_response`` and ``write`` for one call; the response they collect is the
    collector itself (one object, one ``__init__`` per call)."""

    __slots__ = ("chunks",)

    def __init__(self) -> None:
        # Response's fields are set here rather than by its __init__: one call less.
        self.status = 0
        self.headers = []
        self.body = b""
        self.facts = None
        self.chunks: list[bytes] = []

    def start_response(
        self,
        status: str,
        headers: HeaderList,
        exc_info: ExcInfo | None = None,
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            if self.chunks:  # a real server would have sent the headers by now
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.status:
            raise AppResponseError("start_response() called a second time without exc_info")
        code = _STATUS_CODES.get(status) if type(status) is str else None
        self.status = code if code is not None else _status_code(status)
        if not isinstance(headers, list):
            raise AppResponseError("start_response() headers must be a list of (name, value)")
        self.headers = headers
        return self.write

    def write(self, data: bytes) -> None:
        if not self.status:
            raise AppResponseError("write() called before start_response()")
        if not isinstance(data, bytes):
            raise AppResponseError(f"write() takes bytes, not {type(data).__name__}")
        if data:
            self.chunks.append(data)


_STATUS_CODES: dict[str, int] = {}


def _status_code(status: object) -> int:
    known = _STATUS_CODES.get(status) if type(status) is str else None
    if known is not None:
        return known
    if isinstance(status, str) and (len(status) == 3 or status[3:4] == " "):
        digits = status[:3]
        if digits.isdigit():
            value = int(digits)
            if 100 <= value <= 599:
                return remember(_STATUS_CODES, status, value)
    raise AppResponseError(f"invalid WSGI status {status!r}")


class WsgiRunner:
    """Runs a WSGI app for one :class:`Request` at a time (thread-safe: no shared state)."""

    __slots__ = ("app",)

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, request: Request) -> Response:
        collector = _Collector()
        result = self.app(build_environ(request), collector.start_response)
        try:
            chunks = collector.chunks
            if type(result) is list and len(result) == 1 and not chunks:
                body = result[0]  # the common Flask/Django case: one bytes object
                if not isinstance(body, bytes):
                    raise AppResponseError(
                        f"WSGI body items must be bytes, not {type(body).__name__}"
                    )
            else:
                for chunk in result:
                    if not isinstance(chunk, bytes):
                        raise AppResponseError(
                            f"WSGI body items must be bytes, not {type(chunk).__name__}"
                        )
                    if chunk:
                        if not collector.status:
                            raise AppResponseError("the app sent body data before start_response()")
                        chunks.append(chunk)
                body = b"".join(chunks)
                chunks.clear()  # the response keeps the collector: not the body twice
        finally:
            if type(result) is not list:  # lists have no close(); skip the failed lookup
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        if not collector.status:
            raise AppResponseError("the app returned without calling start_response()")
        collector.body = body
        return collector
