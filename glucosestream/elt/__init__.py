"""The batch half: incremental refresh (raw zone to curated readings to marts), data quality, the
grid metrics and the pipeline's steps.
"""
