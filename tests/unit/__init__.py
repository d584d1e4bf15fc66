"""The fast inner loop (``make test-unit``): pure, in-process tests that cost milliseconds each.

No moto, no subprocess or second process, no server or socket, no DuckDB run over a lake and
no long property search: a test that needs one belongs in ``tests/component``."""
