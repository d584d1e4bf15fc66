"""The lake: the storage port and its directory implementation, the raw zone (schema, Firehose
transform, files) and durable writes.
"""
