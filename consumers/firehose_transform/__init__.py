"""Firehose transform Lambda: Avro readings → JSON rows with dt/hour partition keys."""
