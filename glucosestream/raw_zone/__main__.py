"""``python -m glucosestream.raw_zone``: regenerate ``schemas/glucose_reading.glue.json``."""

from glucosestream.raw_zone.schema import write_glue_table

print(write_glue_table())
