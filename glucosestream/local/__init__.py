"""The one-machine runtime: the same handlers, SQL and ASL as AWS, on 127.0.0.1."""
