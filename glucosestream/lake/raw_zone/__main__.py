"""``python -m glucosestream.lake.raw_zone``: regenerate ``schemas/glucose_reading.glue.json``."""

from glucosestream.lake.raw_zone.schema import write_glue_table

print(write_glue_table())
