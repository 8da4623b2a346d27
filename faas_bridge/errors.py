"""The exceptions faas_bridge raises. Every one derives from :class:`BridgeError`."""

from __future__ import annotations

__all__ = [
    "AppResponseError",
    "BridgeError",
    "ConfigurationError",
    "LifespanError",
    "MalformedEventError",
    "UnknownEventError",
]


class BridgeError(Exception):
    """Base class of every exception raised by faas_bridge."""


class UnknownEventError(BridgeError):
    """The event is not an HTTP event of any platform faas_bridge knows.

    Raised for timers, queue messages and anything else that is not an HTTP request,
    unless ``make_handler(..., on_event=...)`` was given a callable for such events.
    """


class MalformedEventError(BridgeError):
    """The event looks like a platform's HTTP event but a field is missing or of the wrong type.

    The handler answers these with a 400 JSON error instead of raising; the exception is
    public so that code calling the platform modules directly can catch it.
    """


class AppResponseError(BridgeError):
    """The application broke its protocol (WSGI or ASGI) while answering.

    Examples: ``start_response`` called twice without ``exc_info``, a body chunk that is
    not bytes, a status outside 100-599, a header containing CR, LF or NUL.
    The handler answers these with a logged 500.
    """


class LifespanError(BridgeError):
    """ASGI lifespan startup failed, timed out, or is unsupported while ``lifespan="on"``."""


class ConfigurationError(BridgeError, ValueError):
    """An option passed to ``make_handler`` (or a platform name) is not valid."""


class InvalidResponseError(BridgeError, AssertionError):
    """A handler returned something the platform's gateway would reject.

    It is an ``AssertionError`` too, so pytest reports it as a plain test failure.
    """
