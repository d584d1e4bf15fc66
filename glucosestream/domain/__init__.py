"""The pure core: readings, identities, metrics, episodes and alert rules.

Nothing here imports boto3, Powertools or does I/O; ``tests/unit/test_layout.py`` checks it.
"""
