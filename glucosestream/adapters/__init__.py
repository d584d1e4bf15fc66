"""One small adapter per AWS service. boto3 clients are built only in :mod:`.clients`."""
