"""The example apps, and a loader that imports each one's ``index.py`` as its cloud would."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def load_index(example: str) -> ModuleType:
    """Import ``examples/<example>/index.py`` with its folder on ``sys.path`` (as on the cloud)."""
    folder = HERE / example
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    module_name = f"_faas_example_{example}_index"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, folder / "index.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
