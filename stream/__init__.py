"""Device streams: the virtual-patient simulator (``stream.simulator``) and the Kinesis producer."""
