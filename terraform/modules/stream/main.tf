# The readings stream: every source (simulator, REST ingest, Nightscout bridge) puts Avro
# single-object records here, partition key = patient_id; the alerts consumer and Firehose read it.

resource "aws_kinesis_stream" "this" {
  name             = var.stream_name
  shard_count      = var.stream_mode == "PROVISIONED" ? var.shard_count : null
  retention_period = var.retention_hours
  encryption_type  = "KMS"
  kms_key_id       = var.kms_key_arn

  # Shard-level metrics show a hot patient partition or a lagging consumer per shard.
  shard_level_metrics = ["IncomingRecords", "IteratorAgeMilliseconds", "ReadProvisionedThroughputExceeded", "WriteProvisionedThroughputExceeded"]

  stream_mode_details {
    stream_mode = var.stream_mode
  }

  tags = var.tags
}
