"""Pieces every platform module uses to turn its event fields into a :class:`Request`."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import MalformedEventError
from ..http import _SPLIT_PATHS, HeaderList, Request, new_request, split_path, strip_base_path
from ..options import Options

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def require_method(value: object) -> str:
    if type(value) is str and value.isupper():
        return value
    if not isinstance(value, str) or not value:
        raise MalformedEventError("the HTTP method is missing or not a string")
    return value if value.isupper() else value.upper()


def require_mapping(value: object, field: str) -> Mapping[str, Any]:
    if type(value) is dict:
        return value
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedEventError(f"{field!r} must be an object, not {type(value).__name__}")
    return value


def context_value(context: Any, name: str) -> str | None:
    """A string field of a platform context, whether it is a dict (Tencent) or an object (FC)."""
    if context is None:
        return None
    if type(context) is dict or isinstance(context, Mapping):
        value = context.get(name)
    else:
        value = getattr(context, name, None)
    return value if isinstance(value, str) and value else None


def make_request(
    platform: str,
    event: Any,
    context: Any,
    options: Options,
    method: str,
    path: object,
    stage_root: str,
    query_string: bytes,
    headers: HeaderList | dict[str, str],
    body: bytes,
    scheme: str,
    server: tuple[str, int],
    client_ip: str | None,
    request_id: str | None,
) -> Request:
    """Assemble a Request, moving a stage prefix and the configured base path into root_path.

    Platform modules pass the fields positionally, one per line with its name in a comment:
    this runs on every call, and keyword arguments would cost a few percent of it.
    """
    known = _SPLIT_PATHS.get(path) if type(path) is str else None  # split_path's memo
    decoded, raw_path = known if known is not None else split_path(path)
    root_path = ""
    if options.base_path:
        below = strip_base_path(decoded, options.base_path)
        if below is not None:
            root_path = options.base_path
            decoded = below
    if stage_root:
        root_path = stage_root + root_path
        raw_path = stage_root.encode("utf-8") + raw_path
    return new_request(  # positional: this runs on every call, keywords cost ~5% of it
        method,
        decoded,
        raw_path,
        query_string,
        headers,
        body,
        scheme,
        server,
        (client_ip, 0) if client_ip else None,
        root_path,
        request_id or "",
        event,
        context,
        platform,
    )
