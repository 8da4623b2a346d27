"""faas_bridge: run unchanged WSGI/ASGI apps on Tencent SCF, Tencent CloudBase and Alibaba FC.

::

    from faas_bridge import make_handler
    from app import app

    main_handler = main = handler = make_handler(app)
"""

from .errors import (
    AppResponseError,
    BridgeError,
    ConfigurationError,
    LifespanError,
    MalformedEventError,
    UnknownEventError,
)
from .handler import Handler, make_handler
from .nonhttp import EventRouteError, event_kind

__version__ = "0.1.0"

__all__ = [
    "AppResponseError",
    "BridgeError",
    "ConfigurationError",
    "EventRouteError",
    "Handler",
    "LifespanError",
    "MalformedEventError",
    "UnknownEventError",
    "__version__",
    "event_kind",
    "make_handler",
]
