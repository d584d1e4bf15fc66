"""``python -m glucosestream.cli``: the ``glucosestream`` command."""

from glucosestream.cli.main import console

raise SystemExit(console())
