"""``python -m glucosestream.lake.raw_zone``: regenerate each raw table's Glue file
(``schemas/*.glue.json``)."""

from glucosestream.lake.raw_zone.schema import RAW_TABLES, write_glue_table

for raw_table in RAW_TABLES:
    print(write_glue_table(raw_table))
