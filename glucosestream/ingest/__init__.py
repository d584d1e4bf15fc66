"""Ingest from real devices and exports: the REST and Nightscout-compatible API, file import.

Pure core (no AWS imports): :mod:`.units`; :mod:`.nightscout` (entries, directions, status),
:mod:`.nightscout_find` (Nightscout's ``find`` query), :mod:`.nightscout_documents` (treatments
and device status); :mod:`.api` — ``readings`` (the ``/v1/readings`` items), ``auth`` (hashed API
keys, the Nightscout secret), ``ratelimit``, ``documents`` (the port of the shared Nightscout
read-path store), ``service`` (the API's application logic, its publisher and stores injected);
:mod:`.files` (file parsers, format detection, the import). The DynamoDB store is
``glucosestream.adapters.nightscout_documents``; the local WSGI front is
``glucosestream.local.apigateway``.
"""
