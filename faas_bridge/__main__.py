"""``python -m faas_bridge``: the same as the ``faas-bridge`` command."""

import sys

from .cli import main

sys.exit(main())
