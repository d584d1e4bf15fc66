# One Kinesis stream of Avro single-object records, partition key = patient_id. envs/dev has
# three: the readings stream (every source — simulator, REST ingest, Nightscout bridge — puts
# readings there; the alerts consumer and Firehose read it), the treatments stream (insulin and
# carbohydrate treatments from the ingest API; Firehose reads it) and the erasures stream
# (erasures of readings from the ingest API's Nightscout DELETE; Firehose reads it).

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
