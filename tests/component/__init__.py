"""Tests too costly for the inner loop, still in one process and without the local stack:
moto's in-process AWS, a fresh interpreter or worker processes, a server on a thread, the ELT and
Step Functions runs over a lake on disk, the dashboard over a simulated lake, long property
searches. ``make test-component`` runs them; ``make test`` runs them with everything else.

The tree mirrors the source tree, as ``tests/unit`` does; a module may have tests in both."""
