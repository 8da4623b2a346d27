"""Subcommands of the ``faas-bridge`` command line, one module each (see ``faas_bridge.cli``)."""
