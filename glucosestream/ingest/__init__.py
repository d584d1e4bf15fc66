"""Ingest from real devices and exports: the REST and Nightscout-compatible API, file import.

Pure core (no AWS imports): :mod:`.units`, :mod:`.readings` (the ``/v1/readings`` items),
:mod:`.nightscout` (entries, directions, status), :mod:`.auth` (hashed API keys, the Nightscout
secret), :mod:`.ratelimit`, :mod:`.recent` (the bounded recent-entries store), :mod:`.service`
(the API's application logic, publisher injected), :mod:`.formats` (file parsers and format
detection). Adapters: :mod:`.importing` (the import through the producer or into the raw zone),
:mod:`.server` (the local WSGI adapter serving the Lambda's resolver on 127.0.0.1).
"""
