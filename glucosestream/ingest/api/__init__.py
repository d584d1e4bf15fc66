"""The ingest API: GlucoseStream's own JSON shape and the Nightscout-compatible API v1, behind any
HTTP front.
"""
