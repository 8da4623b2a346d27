"""Platform-neutral request and response values, and the HTTP rules every platform shares.

Nothing here knows about a cloud or about WSGI/ASGI: the platform modules turn events into a
:class:`Request` and a :class:`Response` into a return value; the runners turn a
:class:`Request` into an environ or scope and collect a :class:`Response`.
"""

from __future__ import annotations

from binascii import b2a_base64
from collections.abc import Mapping

from .errors import AppResponseError, MalformedEventError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds of cold start; annotations only
    from collections.abc import Iterable
    from typing import Any, Union

    HeaderValue = Union[str, list[str]]
    from typing import TypeVar

    K = TypeVar("K")
    V = TypeVar("V")

__all__ = [
    "Request",
    "Response",
]

HeaderList = list[tuple[str, str]]

# Characters left as they are when a decoded path is percent-encoded again.
_PATH_SAFE = "/:@!$&'()*+,;="
# Characters left as they are in query keys and values (RFC 3986 sub-delims minus & = +).
_QUERY_SAFE = "/:@!$'()*,;?"
_QUERY_PLAIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~" + _QUERY_SAFE

# Media types whose bodies are sent as text when they decode as UTF-8.
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/ecmascript",
        "application/x-javascript",
        "application/xml",
        "application/xhtml+xml",
        "application/x-www-form-urlencoded",
        "application/graphql",
        "application/x-ndjson",
        "application/ld+json",
        "application/problem+json",
        "image/svg+xml",
    }
)


class Request:
    """One HTTP request as the app should see it, whatever platform delivered it.

    ``path`` is the decoded path *below* ``root_path`` (``PATH_INFO`` semantics);
    ``raw_path`` is the whole public path, percent-encoded, as a client sent it.

    ``headers`` may be given as a list of ``(name, value)`` pairs or, when the event's
    headers object is already a flat ``dict`` of ASCII strings (:func:`header_pairs` checks
    it), as that dict: it is then kept in ``header_map`` (runners read it without building
    pairs or checking its values again) and ``headers`` builds the pair list on first use.
    """

    __slots__ = (
        "_headers",
        "body",
        "client",
        "context",
        "event",
        "header_map",
        "method",
        "path",
        "platform",
        "query_string",
        "raw_path",
        "request_id",
        "root_path",
        "scheme",
        "server",
    )

    def __init__(
        self,
        method: str,
        path: str,
        raw_path: bytes,
        query_string: bytes,
        headers: HeaderList | dict[str, str],
        body: bytes,
        scheme: str,
        server: tuple[str, int],
        client: tuple[str, int] | None,
        root_path: str,
        request_id: str,
        event: Any,
        context: Any,
        platform: str,
    ) -> None:
        self.method = method
        self.path = path
        self.raw_path = raw_path
        self.query_string = query_string
        if type(headers) is dict:
            self.header_map: dict[str, str] | None = headers
            self._headers: HeaderList | None = None
        else:
            self.header_map = None
            self._headers = headers  # type: ignore[assignment]  # a list, by elimination
        self.body = body
        self.scheme = scheme
        self.server = server
        self.client = client
        self.root_path = root_path
        self.request_id = request_id
        self.event = event
        self.context = context
        self.platform = platform

    @property
    def headers(self) -> HeaderList:
        """The request headers as ``(name, value)`` pairs, order and repeats kept."""
        headers = self._headers
        if headers is None:
            headers = self._headers = list(self.header_map.items()) if self.header_map else []
        return headers

    @headers.setter
    def headers(self, value: HeaderList) -> None:
        self._headers = value
        self.header_map = None

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.root_path}{self.path} via {self.platform}>"


_new = object.__new__


def new_request(
    method: str,
    path: str,
    raw_path: bytes,
    query_string: bytes,
    headers: HeaderList | dict[str, str],
    body: bytes,
    scheme: str,
    server: tuple[str, int],
    client: tuple[str, int] | None,
    root_path: str,
    request_id: str,
    event: Any,
    context: Any,
    platform: str,
) -> Request:
    """``Request(...)`` with the same arguments, for the path every invocation takes:
    calling the class costs ~500 instructions more than filling a bare instance. Sets
    every slot :meth:`Request.__init__` sets (a test compares the two)."""
    request: Request = _new(Request)
    request.method = method
    request.path = path
    request.raw_path = raw_path
    request.query_string = query_string
    if type(headers) is dict:
        request.header_map = headers
        request._headers = None
    else:
        request.header_map = None
        request._headers = headers  # type: ignore[assignment]  # a list, by elimination
    request.body = body
    request.scheme = scheme
    request.server = server
    request.client = client
    request.root_path = root_path
    request.request_id = request_id
    request.event = event
    request.context = context
    request.platform = platform
    return request


class Response:
    """A complete HTTP response: status, header pairs (order and repeats kept), body bytes.

    ``facts`` is set by :func:`check_response`: what rendering needs to know of the header
    names, found once per set of names (the app sends the same ones response after response).
    """

    __slots__ = ("body", "facts", "headers", "status")

    def __init__(self, status: int, headers: HeaderList, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.facts: HeaderFacts | None = None

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes>"


# --------------------------------------------------------------------------------------------
# Request side


def is_base64_flag(value: object) -> bool:
    """``isBase64Encoded`` as platforms send it: a bool, ``"true"``/``"false"`` or missing."""
    if value is True:
        return True
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return False


def decode_body(body: object, base64_flag: object) -> bytes:
    """The request body bytes from an event's ``body`` and ``isBase64Encoded`` fields."""
    if body is None or body == "":
        return b""
    if not isinstance(body, str):
        raise MalformedEventError(f"'body' must be a string, not {type(body).__name__}")
    if is_base64_flag(base64_flag):
        from base64 import b64decode
        from binascii import Error as BinasciiError

        try:
            return b64decode(body, validate=True)
        except (BinasciiError, ValueError):
            # Tencent's own documented sample flags the text body "{key:value}" as base64:
            # a gateway's sample must not fail, so the text passes through (warned once).
            _warn_not_base64()
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedEventError("'body' is not valid Unicode text") from None


_warned_not_base64: list[bool] = []


def _warn_not_base64() -> None:
    if not _warned_not_base64:
        _warned_not_base64.append(True)
        import logging

        logging.getLogger("faas_bridge").warning(
            "an event's body is flagged isBase64Encoded but is not valid base64: passing it "
            "to the app as its UTF-8 text (logged once per process)"
        )


def loggable(text: str) -> str:
    """``text`` safe for one log line: control characters (a client's ``%0a`` in a path)
    escaped, so no one can write a line of their choosing into the log."""
    if text.isprintable():
        return text
    return repr(text)[1:-1]


# Results of the pure string functions below, by argument: warm calls repeat the same paths,
# hosts and schemes, and a dict lookup is far cheaper than redoing the work. Bounded in
# entries and in the size of each key (a client chooses header names, hosts and paths).
MEMO_LIMIT = 1024
MEMO_KEY_LIMIT = 1024  # characters of a key (a tuple's items summed, 16 more per item)


def remember(memo: dict[K, V], key: K, value: V) -> V:
    """Store ``value`` in a bounded memo and return it. A full memo is emptied first, so it
    follows the traffic rather than freezing on whatever filled it (memos are only written
    on a miss, so the cost stays off the common path). A key larger than
    :data:`MEMO_KEY_LIMIT` is not stored: a memo holds at most about a megabyte of keys."""
    if _key_size(key) > MEMO_KEY_LIMIT:
        return value
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value


def _key_size(key: object) -> int:
    if isinstance(key, (str, bytes)):
        return len(key)
    if isinstance(key, tuple):
        return sum(_key_size(item) + 16 for item in key)
    return 16


_SPLIT_PATHS: dict[str, tuple[str, bytes]] = {}
_SERVERS: dict[tuple[str | None, str], tuple[str, int]] = {}
_PLAIN_QUERY_KEYS: set[str] = set()


def split_path(path: object) -> tuple[str, bytes]:
    """``(decoded path, percent-encoded path bytes)`` from a path that may be either.

    A path that contains ``%`` is taken as percent-encoded and decoded (bytes that are not
    UTF-8 survive as surrogate escapes, so WSGI's ``PATH_INFO`` keeps them exactly); any
    other path is taken as already decoded.
    """
    if type(path) is str:
        known = _SPLIT_PATHS.get(path)
        if known is None:
            known = _split_path(path)
            if len(path) <= 256:  # long paths would make the memo heavy
                remember(_SPLIT_PATHS, path, known)
        return known
    return _split_path(path)


def _split_path(path: object) -> tuple[str, bytes]:
    if not isinstance(path, str):
        raise MalformedEventError(f"'path' must be a string, not {type(path).__name__}")
    if not path.startswith("/"):
        path = "/" + path
    if "%" in path:
        from urllib.parse import quote, unquote

        return (
            unquote(path, errors="surrogateescape"),
            quote(path, safe=_PATH_SAFE + "%").encode("ascii"),
        )
    if path.isascii() and path.isprintable() and " " not in path and "?" not in path:
        return path, path.encode("ascii")
    from urllib.parse import quote

    return path, quote(path, safe=_PATH_SAFE).encode("ascii")


def strip_base_path(path: str, base_path: str) -> str | None:
    """``path`` below ``base_path`` if it lies there (on a segment boundary), else None."""
    if path.startswith(base_path):
        rest = path[len(base_path) :]
        if not rest or rest[0] == "/":
            return rest
    return None


def encode_query(params: object) -> bytes:
    """A query string from a decoded mapping, the way Tencent-style events carry it.

    Values may be a string, a list of strings (a repeated key) or ``true`` (a key sent
    without ``=``, like ``?flag``). ``None`` and an empty mapping give ``b""``.
    """
    if not params:
        return b""
    if type(params) is dict:
        # The usual query: names seen before, values of letters and digits (or lists of
        # them, or flags), ASCII as a whole: nothing to escape. Anything else: the careful way.
        parts: list[str] = []
        append = parts.append
        plain_keys = _PLAIN_QUERY_KEYS
        for key, value in params.items():
            if key in plain_keys:
                if type(value) is str:
                    if value.isalnum():
                        append(f"{key}={value}")
                        continue
                elif type(value) is list:
                    for item in value:
                        if type(item) is not str or not item.isalnum():
                            break
                        append(f"{key}={item}")
                    else:
                        continue
                elif value is True or value is None:
                    append(key)
                    continue
            break
        else:
            query = "&".join(parts)
            if query.isascii():
                return query.encode("ascii")
    return _encode_query_carefully(params)


def _encode_query_carefully(params: object) -> bytes:
    if type(params) is not dict and not isinstance(params, Mapping):
        raise MalformedEventError(
            f"query parameters must be an object, not {type(params).__name__}"
        )
    parts: list[str] = []
    append = parts.append
    plain_keys = _PLAIN_QUERY_KEYS
    for key, value in params.items():
        if key not in plain_keys:  # names repeat call after call: remember the plain ones
            if type(key) is not str:
                raise MalformedEventError(f"a query parameter name is a {type(key).__name__}")
            if key.isalnum() and key.isascii():
                if len(key) <= 64:  # a client chooses the names: only short ones are kept
                    if len(plain_keys) >= MEMO_LIMIT:
                        plain_keys.clear()
                    plain_keys.add(key)
            else:
                key = _quote_query(key)
        if type(value) is str:
            append(f"{key}={value if value.isalnum() and value.isascii() else _quote_query(value)}")
        elif value is True or value is None:
            append(key)
        elif type(value) is list:
            for item in value:
                if item is True or item is None:
                    append(key)
                elif type(item) is str and item.isalnum() and item.isascii():
                    append(f"{key}={item}")
                else:
                    append(f"{key}={_quote_query(_scalar(item, key))}")
        else:
            append(f"{key}={_quote_query(_scalar(value, key))}")
    return "&".join(parts).encode("ascii")


def _quote_query(text: str) -> str:
    if text.isascii() and not text.strip(_QUERY_PLAIN):  # nothing to escape (C-speed test)
        return text
    from urllib.parse import quote

    return quote(text, safe=_QUERY_SAFE)


def _scalar(value: object, key: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if value is False:
        return "false"
    raise MalformedEventError(f"query parameter {key!r} has a value of type {type(value).__name__}")


def header_pairs(headers: object) -> HeaderList | dict[str, str]:
    """The request headers of an event's ``headers`` object, for :class:`Request`.

    A flat ``dict`` of ASCII strings (the usual case) is returned as it is, for
    :class:`Request`'s ``header_map``; anything else becomes a list of pairs, list values
    giving repeated headers (the runners transcode non-ASCII values pair by pair).
    """
    if not headers:
        return []
    if type(headers) is not dict and not isinstance(headers, Mapping):
        raise MalformedEventError(f"'headers' must be an object, not {type(headers).__name__}")
    try:  # every value an ASCII string? (at C speed; names are checked where they are used)
        ascii_strings = "".join(headers.values()).isascii()
    except TypeError:
        pass  # list values (repeated headers) or bad types: the careful path below
    else:
        if ascii_strings and type(headers) is dict:
            return headers
        return list(headers.items())
    pairs: HeaderList = []
    for name, value in headers.items():
        if type(name) is not str:
            raise MalformedEventError(f"a header name is a {type(name).__name__}")
        if isinstance(value, str):
            pairs.append((name, value))
        elif isinstance(value, list):
            pairs.extend((name, _header_value(item, name)) for item in value)
        elif value is not None:
            pairs.append((name, _header_value(value, name)))
    return pairs


def _header_value(value: object, name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise MalformedEventError(f"header {name!r} has a value of type {type(value).__name__}")


def get_header(
    headers: Mapping[str, Any], lower_name: str, canonical_name: str | None = None
) -> str | None:
    """A header value by lower-case name from an event's headers object (any key case).

    The lower-case and ``canonical_name`` spellings are tried directly before a scan.
    """
    value = headers.get(lower_name)
    if value is None and canonical_name is not None:
        value = headers.get(canonical_name)
    if value is None:
        size = len(lower_name)
        for name, candidate in headers.items():
            if len(name) == size and name.lower() == lower_name:
                value = candidate
                break
        else:
            return None
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def server_from_host(host: str | None, scheme: str) -> tuple[str, int]:
    """``(SERVER_NAME, SERVER_PORT)`` from a Host header value."""
    key = (host, scheme)
    known = _SERVERS.get(key)
    if known is None:
        known = remember(_SERVERS, key, _server_from_host(host, scheme))
    return known


def _server_from_host(host: str | None, scheme: str) -> tuple[str, int]:
    default_port = 443 if scheme == "https" else 80
    if not host:
        return "localhost", default_port
    if "," in host:  # Alibaba FC folds a repeated Host into "a,a"
        host = host.split(",", 1)[0].strip()
    if host.endswith("]") or ":" not in host:  # no port, or a bare IPv6 literal
        return host, default_port
    name, _, port = host.rpartition(":")
    if port.isdigit():
        return name, int(port)
    return host, default_port


def scheme_from(value: str | None) -> str:
    """The URL scheme from a forwarded-proto style header; these gateways default to https."""
    if value == "https" or value == "http":
        return value
    if value:
        value = value.split(",", 1)[0].strip().lower()
        if value in ("http", "https"):
            return value
    return "https"


def first_forwarded_for(value: str | None) -> str | None:
    """The first address of an ``X-Forwarded-For`` value (client-supplied: spoofable)."""
    if not value:
        return None
    first = value.split(",", 1)[0].strip()
    return first or None


# --------------------------------------------------------------------------------------------
# Response side

MIB = 1024 * 1024
# The docs say "6 MB" (Tencent SCF, CloudBase) and "32 MB" (FC) without saying MiB: the
# limits guard with the smaller, decimal reading, so a body between the two readings gets
# faas_bridge's clear error instead of an opaque gateway failure.
MB = 1000 * 1000


def returned_size(returned: object) -> int:
    """Bytes of a handler's return value as the runtime sends it on: its JSON, in UTF-8.

    The platforms' response limits apply to this, not to the body alone: base64, JSON
    escaping and the headers all count.
    """
    if isinstance(returned, (bytes, bytearray)):
        return len(returned)
    import json

    try:
        return len(json.dumps(returned, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError):
        return 0  # not serialisable: the platform's own error, not a size problem


# Header name characters (an RFC 9110 token), as h11 and gunicorn accept them.
TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Response header names (all tokens) -> their HeaderFacts.
_HEADER_FACTS: dict[tuple[str, ...], HeaderFacts] = {}


class HeaderFacts:
    """What rendering needs to know of a tuple of response header names.

    ``content_type``: index of the last ``Content-Type`` (-1: none); ``encodings``: indexes
    of every ``Content-Encoding``; ``repeats``: whether a name occurs twice, in any case.
    """

    __slots__ = ("content_type", "encodings", "repeats")

    def __init__(self, names: tuple[str, ...]) -> None:
        lower = [name.lower() for name in names]
        self.content_type = -1
        if "content-type" in lower:
            self.content_type = len(lower) - 1 - lower[::-1].index("content-type")
        self.encodings = tuple(i for i, name in enumerate(lower) if name == "content-encoding")
        self.repeats = len(set(lower)) != len(lower)


def is_token(name: object) -> bool:
    """Whether ``name`` is a valid HTTP header name: one or more ASCII token characters."""
    return type(name) is str and name != "" and name.isascii() and not name.strip(TOKEN_CHARS)


def check_response(response: Response) -> None:
    """Refuse what a server such as h11 or gunicorn would refuse to send: a status outside
    100-599, a header name that is not a token (empty, spaces, colons, non-ASCII), a header
    value holding a control character other than HTAB (CR, LF, NUL included: header
    injection) or a lone surrogate (the return value could not be serialised).

    Raises :class:`~faas_bridge.AppResponseError`; the handler answers it as a logged 500.
    """
    status = response.status
    if type(status) is not int or not 100 <= status <= 599:
        raise AppResponseError(f"invalid response status {status!r}")
    headers = response.headers
    if not headers:
        return
    try:  # names and values apart, at C speed (pairs of other lengths fail in render)
        names, values = zip(*headers)
        text = "".join(values)
        known = _HEADER_FACTS.get(names)
    except (TypeError, ValueError):
        raise AppResponseError("response header names and values must be strings") from None
    if known is None:
        for name in names:
            if not is_token(name):
                raise AppResponseError(f"response header name {name!r} is not a valid token")
        known = remember(_HEADER_FACTS, names, HeaderFacts(names))
    response.facts = known
    # Token names are printable ASCII: only the values need a look.
    if text.isascii() and text.isprintable():  # the usual case: no control character at all
        return
    for name, value in headers:
        if not value.isprintable() and not _valid_value(value):
            raise AppResponseError(
                f"response header {name!r} holds a control character or a lone surrogate"
            )


def _valid_value(value: str) -> bool:
    for char in value:
        if (char < " " and char != "\t") or char == "\x7f" or "\ud800" <= char <= "\udfff":
            return False
    return True


_TEXT_TYPE_MEMO: dict[tuple[str, frozenset[str]], bool] = {}


def is_text_type(content_type: str, extra: frozenset[str]) -> bool:
    """Whether a body of this Content-Type should be sent as text (when it is valid UTF-8)."""
    key = (content_type, extra)
    known = _TEXT_TYPE_MEMO.get(key)
    if known is None:
        known = remember(_TEXT_TYPE_MEMO, key, _is_text_type(content_type, extra))
    return known


def _is_text_type(content_type: str, extra: frozenset[str]) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return (
        media_type.startswith("text/")
        or media_type in _TEXT_TYPES
        or media_type.endswith(("+json", "+xml"))
        or media_type in extra
        or (media_type.split("/", 1)[0] + "/*") in extra
    )


def encode_body(response: Response, extra_text_types: frozenset[str]) -> tuple[str, bool]:
    """``(body, isBase64Encoded)`` for a platform response.

    Any Content-Encoding means binary; a text media type means text, unless the body is not
    valid UTF-8, which falls back to base64 so no byte is lost.
    """
    body = response.body
    if not body:
        return "", False
    facts = response.facts
    if facts is not None:  # a checked response: no need to look at every name
        headers = response.headers
        for index in facts.encodings:
            if headers[index][1].strip().lower() not in ("", "identity"):
                return b2a_base64(body, newline=False).decode("ascii"), True
        index = facts.content_type
        content_type = headers[index][1] if index >= 0 else None
    else:
        content_type = _content_type(response.headers)
        if content_type is _ENCODED:
            return b2a_base64(body, newline=False).decode("ascii"), True
    if content_type is None:
        return b2a_base64(body, newline=False).decode("ascii"), True
    as_text = _TEXT_TYPE_MEMO.get((content_type, extra_text_types))  # is_text_type's memo
    if as_text is None:
        as_text = is_text_type(content_type, extra_text_types)
    if as_text:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return b2a_base64(body, newline=False).decode("ascii"), True


_ENCODED = "\0encoded"  # _content_type's answer for a body with a Content-Encoding


def _content_type(headers: HeaderList) -> str | None:
    """The last Content-Type of unchecked headers, or ``_ENCODED``."""
    content_type = None
    for name, value in headers:
        lower = name.lower()
        if lower == "content-type":
            content_type = value
        elif lower == "content-encoding" and value.strip().lower() not in ("", "identity"):
            return _ENCODED
    return content_type


def fold_headers(
    headers: list[tuple[str, str]], facts: HeaderFacts | None = None
) -> dict[str, HeaderValue]:
    """Header pairs as a dict whose repeated names hold a list (Tencent SCF, CloudBase).

    The first spelling of a name is kept; later repeats in any case join its list.
    ``facts``, the response's :class:`HeaderFacts`, can tell that no name repeats.
    """
    if facts is not None and not facts.repeats:
        return dict(headers)
    folded: dict[str, HeaderValue] = {}
    first_spelling: dict[str, str] = {}
    for name, value in headers:
        lower = name.lower()
        key = first_spelling.get(lower)
        if key is None:
            first_spelling[lower] = name
            folded[name] = value
        else:
            current = folded[key]
            if isinstance(current, list):
                current.append(value)
            else:
                folded[key] = [current, value]
    return folded


def case_variants(name: str) -> Iterable[str]:
    """Spellings of ``name`` that differ only in letter case, ``name`` itself first."""
    yield name
    letters = [i for i, char in enumerate(name) if char.isalpha()]
    lower = name.lower()
    for mask in range(1 << len(letters)):
        chars = list(lower)
        for bit, index in enumerate(letters):
            if mask >> bit & 1:
                chars[index] = chars[index].upper()
        variant = "".join(chars)
        if variant != name:
            yield variant
