# Real-time alerting: the alerts consumer Lambda behind a Kinesis event-source mapping, its state
# table (DynamoDB), the topics alerts and pipeline (SNS), the on-failure queue and example feeds.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  topics = {
    alerts   = var.alerts_topic_name
    pipeline = var.pipeline_topic_name
  }
  # The SQS queues subscribed to the topics, each naming its queue and its topic (provision.py
  # does the same locally). An SQS message goes to one reader, so the dashboard's live view has
  # a queue of its own on the alerts topic beside the operators' feed. The keys are state
  # addresses (aws_sqs_queue.feed["alerts"], ...): keep them stable.
  feeds = {
    alerts           = { queue = var.alerts_feed_queue_name, topic = "alerts" }
    dashboard_alerts = { queue = var.dashboard_alerts_queue_name, topic = "alerts" }
    pipeline         = { queue = var.pipeline_feed_queue_name, topic = "pipeline" }
  }
  # An SNS topic's ARN follows from its name; built here, the ARNs are known at plan time, so
  # `terraform plan` shows the functions' environments and the state machine's definition in full.
  topic_arns = {
    for key, name in local.topics :
    key => "arn:${data.aws_partition.current.partition}:sns:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${name}"
  }
}

# --- state table ---------------------------------------------------------------------------------

resource "aws_dynamodb_table" "state" {
  name                        = var.state_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "patient_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "patient_id"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at" # patients silent for long drop out of the table
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# --- topics and queues ---------------------------------------------------------------------------

resource "aws_sns_topic" "this" {
  for_each          = local.topics
  name              = each.value
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sqs_queue" "dlq" {
  name                              = var.dlq_name
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = 1209600 # 14 days (the maximum) to investigate a discarded batch
  tags                              = var.tags
}

resource "aws_sqs_queue" "feed" {
  for_each                          = local.feeds
  name                              = each.value.queue
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = 345600 # 4 days
  tags                              = var.tags
}

data "aws_iam_policy_document" "feed" {
  for_each = local.feeds
  statement {
    sid       = "TopicDelivers"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.feed[each.key].arn]
    principals {
      type        = "Service"
      identifiers = ["sns.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_sns_topic.this[each.value.topic].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "feed" {
  for_each  = local.feeds
  queue_url = aws_sqs_queue.feed[each.key].id
  policy    = data.aws_iam_policy_document.feed[each.key].json
}

resource "aws_sns_topic_subscription" "feed" {
  for_each             = local.feeds
  topic_arn            = aws_sns_topic.this[each.value.topic].arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.feed[each.key].arn
  raw_message_delivery = true
  depends_on           = [aws_sqs_queue_policy.feed]
}

# Example e-mail subscription (each address confirms by mail); empty by default.
resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alert_email_addresses)
  topic_arn = aws_sns_topic.this["alerts"].arn
  protocol  = "email"
  endpoint  = each.value
  # Critical alerts only, and none the patient's quiet hours silenced, by the message attributes
  # the consumer sets (critical ones are never silenced; the attribute keeps the rule explicit).
  filter_policy = jsonencode({ severity = ["CRITICAL"], silenced = ["false"] })
}

# --- the alerts consumer -------------------------------------------------------------------------

# Its own logs and traces are added by the lambda_function module.
data "aws_iam_policy_document" "consumer" {
  #checkov:skip=CKV_AWS_356:kinesis:ListStreams supports no resource-level permissions; AWS requires "*" for it (statement commented). Logs and X-Ray: the lambda_function module.
  statement {
    sid       = "ReadStream"
    actions   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]
    resources = [var.stream_arn]
  }
  statement {
    sid       = "ListStreams"
    actions   = ["kinesis:ListStreams"]
    resources = ["*"] # required: ListStreams has no resource-level permissions (the mapping calls it)
  }
  statement {
    sid       = "PatientState"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:PutItem"]
    resources = [aws_dynamodb_table.state.arn]
  }
  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this["alerts"].arn]
  }
  statement {
    sid       = "OnFailureDestination"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }
  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

module "consumer" {
  source = "../lambda_function"

  name               = var.function_name
  description        = "Real-time hypoglycaemia alerts from the readings stream"
  role_description   = "Alerts consumer: read the readings stream, read/write patient state, publish alerts, send discarded batches to the DLQ."
  policy_name        = "consumer"
  policy_json        = data.aws_iam_policy_document.consumer.json
  handler            = "consumers.alerts.handler.lambda_handler"
  runtime            = var.lambda_runtime
  code_zip           = var.lambda_code_zip
  layer_arns         = var.lambda_layer_arns
  memory_size        = 512
  timeout            = 60
  kms_key_arn        = var.kms_key_arn
  log_retention_days = var.log_retention_days
  tags               = var.tags

  environment = merge(var.settings_environment, {
    GS_ALERTS_TOPIC_ARN          = local.topic_arns["alerts"]
    GS_PIPELINE_TOPIC_ARN        = local.topic_arns["pipeline"]
    GS_ALERT_STALENESS_MINUTES   = tostring(var.alert_staleness_minutes)
    POWERTOOLS_SERVICE_NAME      = "alerts"
    POWERTOOLS_METRICS_NAMESPACE = "GlucoseStream"
    POWERTOOLS_LOG_LEVEL         = var.log_level
  })
}

# The settings of glucosestream/local/workers.py ALERTS_MAPPING, which the local mapping runs with.
# Disabled (mapping_enabled = false) when the KCL consumer (modules/alerts_kcl) reads the stream
# alone: the mapping keeps its position, so enabling it again resumes where it stopped.
resource "aws_lambda_event_source_mapping" "consumer" {
  function_name                      = module.consumer.function_arn
  event_source_arn                   = var.stream_arn
  enabled                            = var.mapping_enabled
  starting_position                  = var.mapping.starting_position
  batch_size                         = var.mapping.batch_size
  maximum_batching_window_in_seconds = var.mapping.maximum_batching_window_s
  bisect_batch_on_function_error     = var.mapping.bisect_batch_on_function_error
  maximum_retry_attempts             = var.mapping.maximum_retry_attempts
  maximum_record_age_in_seconds      = var.mapping.maximum_record_age_s
  parallelization_factor             = 1 # per-patient order: one batch per shard at a time
  function_response_types            = var.mapping.report_batch_item_failures ? ["ReportBatchItemFailures"] : []

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.dlq.arn
    }
  }

  # The function publishes to the topics by ARNs built from their names: no batch before they exist.
  depends_on = [aws_sns_topic.this]
}

# --- alarms --------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  alarm_name          = "${var.function_name}-iterator-age"
  alarm_description   = "The alerts consumer lags the stream: alerts reach patients late."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = module.consumer.function_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.iterator_age_alarm_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this["pipeline"].arn]
  ok_actions          = [aws_sns_topic.this["pipeline"].arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.function_name}-errors"
  alarm_description   = "The alerts consumer raised (a poison record being bisected, or state/SNS failures)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = module.consumer.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this["pipeline"].arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  alarm_name          = "${var.dlq_name}-depth"
  alarm_description   = "Records were discarded to the alerts DLQ (a Lambda batch after its retries, or a record the KCL consumer could not decode): those readings were never checked for alerts."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this["pipeline"].arn]
  tags                = var.tags
}
