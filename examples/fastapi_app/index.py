"""Entry point for all three clouds: Tencent SCF calls ``main_handler``, CloudBase ``main``
and Alibaba FC ``handler`` (FC 2.0's ``handler(environ, start_response)`` works too)."""

from main import app

from faas_bridge import make_handler

main_handler = main = handler = make_handler(app)
