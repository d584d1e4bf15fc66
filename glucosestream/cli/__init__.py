"""The ``glucosestream`` command and the demo ``make run`` runs."""
