"""Non-HTTP trigger events as each cloud delivers them: :func:`build_trigger_event`,
:func:`build_timer_event`, :func:`trigger_kinds`. The sample shapes live with their cloud
(``clouds/<cloud>.py``, ``TRIGGER_EVENTS``)."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

from ..clouds import CLOUDS, get_cloud, trigger_sample

__all__ = ["build_timer_event", "build_trigger_event", "trigger_kinds"]


def trigger_kinds() -> list[str]:
    """Every kind :func:`build_trigger_event` builds (``"tencent.timer"``, ``"alibaba.oss"``...)."""
    return [kind for cloud in CLOUDS.values() for kind in cloud.TRIGGER_EVENTS]


def build_trigger_event(kind: str, **overrides: Any) -> Any:
    """A sample non-HTTP event of ``kind`` as the cloud's runtime passes it: a dict on
    Tencent SCF and CloudBase, bytes of JSON on Alibaba FC. ``overrides`` replace top-level
    fields of the sample."""
    sample, as_bytes = trigger_sample(kind)
    event = copy.deepcopy(sample)
    event.update(overrides)
    return json.dumps(event, ensure_ascii=False).encode("utf-8") if as_bytes else event


def build_timer_event(
    cloud: str, *, name: str = "daily-report", message: str = "", at: float | None = None
) -> Any:
    """A timer trigger's event on ``cloud`` (``"tencent"``, ``"cloudbase"``, ``"alibaba"`` or
    one of their format names): trigger ``name``, its configured ``message`` (Tencent's
    ``Message``, FC's ``payload``) and the firing time ``at`` (epoch seconds; now if omitted).
    CloudBase functions receive SCF's timer event."""
    module = get_cloud(cloud)
    name_field, message_field, time_field = module.TIMER_FIELDS
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if at is None else at))
    fields = {name_field: name, message_field: message, time_field: stamp}
    return build_trigger_event(module.TIMER_KIND, **fields)
