"""The event contract on the wire: Avro single-object encoding (codec), KPL aggregation (kpl), and
Kinesis record bytes to readings (records).
"""
