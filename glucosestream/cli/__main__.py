"""``python -m glucosestream.cli``: the ``glucosestream`` command."""

from glucosestream.cli.main import main

raise SystemExit(main())
