"""The ``glucosestream`` commands, one module per command group: each handler turns the parsed
arguments and the settings into an exit status, and raises ``UserError`` on bad input."""
