"""Real-time alerting: the consumer use case (decode, apply the domain's alert engine per patient,
publish once per episode) and the ports it depends on.
"""
