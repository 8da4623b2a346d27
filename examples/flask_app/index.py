"""Entry point for all three clouds: Tencent SCF calls ``main_handler``, CloudBase ``main``
and Alibaba FC ``handler``."""

from app import app

from faas_bridge import make_handler

main_handler = main = handler = make_handler(app)
