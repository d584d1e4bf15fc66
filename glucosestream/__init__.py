"""GlucoseStream: an open streaming data platform for continuous glucose monitoring."""

__version__ = "0.1.0"
