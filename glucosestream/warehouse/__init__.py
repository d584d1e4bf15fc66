"""Queries over the lake: the query-engine and table-catalog ports, and the SQL files of ``sql/``
as Athena statements.
"""
