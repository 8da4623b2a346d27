"""Non-HTTP events (timers, queue messages, storage notifications) delivered to the app as
``POST <events_path>`` (``make_handler(events_path=...)``): the request one becomes, and
the function's result made from the app's answer.

The request carries the event as its body (JSON, or the raw bytes/text of an event that is
not JSON), ``X-Faas-Bridge-Event-Kind`` naming its kind as far as a cloud module recognises
it (``tencent.timer``, ``alibaba.oss``... or ``unknown``), and ``faas_bridge.platform`` set to
``"event"`` in the environ/scope: a value no HTTP request gets, so the app can tell a real
event from a client calling the same path (:func:`event_kind` checks it). Kinds are
recognised by ``clouds/<cloud>.py`` (imported when the first such event arrives).

An event that no format matched but that carries an HTTP request's fields (``httpMethod``,
``rawPath``: an HTTP request of a shape faas_bridge does not read, such as AWS's payload
2.0) is never delivered, nor run as a command: it raises
:class:`~faas_bridge.UnknownEventError`, as without ``events_path``.
"""

from __future__ import annotations

from collections.abc import Mapping

from .errors import BridgeError, UnknownEventError
from .http import Request, Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["EVENT_PLATFORM", "KIND_HEADER", "EventRoute", "EventRouteError", "event_kind"]

EVENT_PLATFORM = "event"  # faas_bridge.platform of a delivered event
KIND_HEADER = "X-Faas-Bridge-Event-Kind"
_ENVIRON_KIND = "HTTP_X_FAAS_BRIDGE_EVENT_KIND"
HTTP_FIELDS = ("httpMethod", "rawPath")  # what only an HTTP request's event carries


def looks_like_http(event: Any) -> bool:
    """Whether an event that no format matched carries an HTTP request's fields anyway."""
    return isinstance(event, Mapping) and any(field in event for field in HTTP_FIELDS)


class EventRouteError(BridgeError):
    """The app answered a delivered non-HTTP event with an error status (4xx or 5xx).

    Raised so the cloud records the invocation as failed (and retries it where the
    trigger does); the message names the status, the path and the event's kind.
    """


class EventRoute:
    """``route(event, context)``: the event as ``POST <path>`` to the app, the app's answer
    as the function's result."""

    __slots__ = ("path", "respond")

    def __init__(self, path: str, respond: Callable[[Request], Response]) -> None:
        self.path = path
        self.respond = respond

    def __call__(self, event: Any, context: Any) -> Any:
        from .clouds import event_kind as kind_of

        if looks_like_http(event):
            from .handler import _describe_unknown

            raise UnknownEventError(
                f"an HTTP request of no known format, not delivered to {self.path} as a "
                f"trigger event; {_describe_unknown(event, None)}"
            )
        kind = kind_of(event)
        body, content_type = _body(event)
        response = self.respond(self.request(event, context, kind, body, content_type))
        if response.status >= 400:
            raise EventRouteError(
                f"the app answered {response.status} to POST {self.path} "
                f"(a non-HTTP event of kind {kind})"
            )
        return result(response)

    def request(
        self, event: Any, context: Any, kind: str, body: bytes, content_type: str
    ) -> Request:
        from urllib.parse import quote

        from .platforms._common import context_value

        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            (KIND_HEADER, kind),
        ]
        return Request(
            "POST",
            self.path,
            quote(self.path, safe="/").encode("ascii"),
            b"",
            headers,
            body,
            "http",
            ("localhost", 80),
            None,
            "",
            context_value(context, "request_id") or "",
            event,
            context,
            EVENT_PLATFORM,
        )


def _body(event: Any) -> tuple[bytes, str]:
    """The request body for an event: JSON for decoded values, bytes and text as they are."""
    if isinstance(event, (bytes, bytearray)):
        return bytes(event), "application/octet-stream"
    if isinstance(event, str):
        return event.encode("utf-8", "surrogatepass"), "text/plain; charset=utf-8"
    import json

    text = json.dumps(event, ensure_ascii=False, default=str)
    return text.encode("utf-8", "surrogatepass"), "application/json"


def result(response: Response) -> Any:
    """The function's result for the app's answer: a JSON body decoded, other text as a
    string, other bytes base64-encoded, an empty body as None."""
    body = response.body
    if not body:
        return None
    content_type = ""
    for name, value in response.headers:
        if name.lower() == "content-type":
            content_type = value.lower()
            break
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        import base64

        return base64.b64encode(body).decode("ascii")
    if "json" in content_type:
        import json

        try:
            return json.loads(text)
        except ValueError:
            return text
    return text


def event_kind(environ_or_scope: Mapping[str, Any]) -> str | None:
    """The kind of the non-HTTP event this request delivers (``"tencent.timer"``), or None
    when it is an ordinary HTTP request, whatever headers the client sent."""
    if environ_or_scope.get("faas_bridge.platform") != EVENT_PLATFORM:
        return None
    kind = environ_or_scope.get(_ENVIRON_KIND)  # WSGI
    if isinstance(kind, str):
        return kind
    wanted = KIND_HEADER.lower().encode("latin-1")
    for name, value in environ_or_scope.get("headers") or ():  # ASGI
        if name == wanted:
            text: str = value.decode("latin-1")
            return text
    return "unknown"


def check_events_path(path: str) -> str:
    """``events_path`` as given, or ConfigurationError when it is no absolute path."""
    from .errors import ConfigurationError

    if not isinstance(path, str) or not path.startswith("/") or "?" in path or "#" in path:
        raise ConfigurationError(
            f"events_path must be an absolute path like '/_events', not {path!r}"
        )
    return path
