# Real-time alerting: the alerts consumer Lambda behind a Kinesis event-source mapping, its state
# table (DynamoDB), the topics alerts and pipeline (SNS), the on-failure queue and example feeds.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  log_group = "/aws/lambda/${var.function_name}"
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
  # Critical alerts only, by the message attribute the consumer sets.
  filter_policy = jsonencode({ severity = ["CRITICAL"] })
}

# --- the alerts consumer -------------------------------------------------------------------------

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "consumer" {
  name               = "${var.function_name}-lambda"
  description        = "Alerts consumer: read the readings stream, read/write patient state, publish alerts, send discarded batches to the DLQ."
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "consumer" {
  #checkov:skip=CKV_AWS_356:kinesis:ListStreams and the X-Ray actions support no resource-level permissions; AWS requires "*" for them (each statement commented).
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
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.consumer.arn}:*"]
  }
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # required: X-Ray has no resource-level permissions for these actions
  }
}

resource "aws_iam_role_policy" "consumer" {
  name   = "consumer"
  role   = aws_iam_role.consumer.id
  policy = data.aws_iam_policy_document.consumer.json
}

resource "aws_cloudwatch_log_group" "consumer" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "consumer" {
  #checkov:skip=CKV_AWS_116:The function is invoked by a Kinesis event-source mapping (synchronously); its on-failure SQS destination is configured on the mapping, a Lambda DLQ only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:Only AWS APIs are called (Kinesis, DynamoDB, SNS); a VPC would add NAT or endpoint cost and cold-start latency without isolating anything.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded by the mapping: one batch per shard at a time (ParallelizationFactor 1); reserved concurrency needs an account limit above the default 10.
  #checkov:skip=CKV_AWS_272:Code signing needs a Signer profile and signed artefacts from CI; the zips are reproducible and their SHA-256 is pinned by source_code_hash.
  function_name    = var.function_name
  description      = "Real-time hypoglycaemia alerts from the readings stream"
  role             = aws_iam_role.consumer.arn
  handler          = "consumers.alerts.handler.lambda_handler"
  runtime          = var.lambda_runtime
  architectures    = ["x86_64"]
  filename         = var.lambda_code_zip
  source_code_hash = filebase64sha256(var.lambda_code_zip)
  layers           = var.lambda_layer_arns
  memory_size      = 512
  timeout          = 60
  kms_key_arn      = var.kms_key_arn

  environment {
    variables = merge(var.settings_environment, {
      GS_ALERTS_TOPIC_ARN          = local.topic_arns["alerts"]
      GS_PIPELINE_TOPIC_ARN        = local.topic_arns["pipeline"]
      GS_ALERT_STALENESS_MINUTES   = tostring(var.alert_staleness_minutes)
      POWERTOOLS_SERVICE_NAME      = "alerts"
      POWERTOOLS_METRICS_NAMESPACE = "GlucoseStream"
      POWERTOOLS_LOG_LEVEL         = var.log_level
    })
  }

  tracing_config {
    mode = "Active"
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.consumer, aws_iam_role_policy.consumer, aws_sns_topic.this]
}

# The settings of glucosestream/demo.py ALERTS_MAPPING, which the local mapping runs with.
resource "aws_lambda_event_source_mapping" "consumer" {
  function_name                      = aws_lambda_function.consumer.arn
  event_source_arn                   = var.stream_arn
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

  depends_on = [aws_iam_role_policy.consumer]
}

# --- alarms --------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "iterator_age" {
  alarm_name          = "${var.function_name}-iterator-age"
  alarm_description   = "The alerts consumer lags the stream: alerts reach patients late."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = aws_lambda_function.consumer.function_name }
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
  dimensions          = { FunctionName = aws_lambda_function.consumer.function_name }
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
  alarm_description   = "Batches were discarded to the alerts DLQ after their retries: those readings were never checked for alerts."
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
