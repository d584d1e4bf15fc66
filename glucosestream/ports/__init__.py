"""Ports: the interfaces the ELT, data-quality, pipeline, metrics and dashboard code depend on.

Each port has a local implementation (one machine, ``GS_MODE=local``) and an AWS one
(``GS_MODE=aws``); only the composition roots (the CLI, the Lambda handlers, ``bokeh_app/``,
``glucosestream/local/``) choose which. Nothing here imports boto3, DuckDB or sqlglot.
"""
