# Firehose: readings stream → transform Lambda (Avro → JSON + dt/hour partition keys) → Parquet
# (schema: the Glue raw table) → s3://<lake>/raw/readings/dt=/hour=/; failures → errors/.

locals {
  transform_log_group = "/aws/lambda/${var.transform_function_name}"
  firehose_log_group  = "/aws/kinesisfirehose/${var.delivery_stream_name}"
  lake_arn            = aws_s3_bucket.this["lake"].arn
}

# --- transform Lambda ------------------------------------------------------------------------

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "transform" {
  name               = "${var.transform_function_name}-lambda"
  description        = "Firehose transform Lambda: writes its own logs and traces, nothing else."
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "transform" {
  #checkov:skip=CKV_AWS_356:X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; AWS requires "*".
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.transform.arn}:*"]
  }
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # required: X-Ray has no resource-level permissions for these actions
  }
  statement {
    sid       = "EnvironmentKey"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "transform" {
  name   = "transform"
  role   = aws_iam_role.transform.id
  policy = data.aws_iam_policy_document.transform.json
}

resource "aws_cloudwatch_log_group" "transform" {
  name              = local.transform_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "transform" {
  #checkov:skip=CKV_AWS_116:Firehose invokes the transform synchronously and retries it itself; a Lambda DLQ only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The function calls no AWS service and no private resource; a VPC would only add NAT cost and cold-start latency.
  #checkov:skip=CKV_AWS_115:Firehose bounds its own concurrency per delivery stream; reserving concurrency would need an account limit above the default 10 in a new account.
  #checkov:skip=CKV_AWS_272:Code signing needs a Signer profile and signed artefacts from CI; the zips are reproducible and their SHA-256 is pinned by source_code_hash.
  function_name    = var.transform_function_name
  description      = "Firehose transform: Avro readings to JSON with dt/hour partition keys"
  role             = aws_iam_role.transform.arn
  handler          = "consumers.firehose_transform.handler.lambda_handler"
  runtime          = var.lambda_runtime
  architectures    = ["x86_64"]
  filename         = var.lambda_code_zip
  source_code_hash = filebase64sha256(var.lambda_code_zip)
  layers           = var.lambda_layer_arns
  memory_size      = 512
  timeout          = 60 # Firehose allows the transform up to 5 minutes; a 1 MiB batch takes well under a second
  kms_key_arn      = var.kms_key_arn

  environment {
    variables = {
      POWERTOOLS_SERVICE_NAME = "firehose-transform"
      POWERTOOLS_LOG_LEVEL    = var.log_level
    }
  }

  tracing_config {
    mode = "Active"
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.transform, aws_iam_role_policy.transform]
}

# --- delivery stream ---------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "firehose" {
  name              = local.firehose_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "firehose" {
  name           = "DestinationDelivery"
  log_group_name = aws_cloudwatch_log_group.firehose.name
}

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name               = "${var.delivery_stream_name}-firehose"
  description        = "Firehose ${var.delivery_stream_name}: read the stream, invoke the transform, read the raw table schema, write the raw zone."
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "firehose" {
  statement {
    sid       = "ReadStream"
    actions   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"]
    resources = [var.stream_arn]
  }
  statement {
    sid       = "InvokeTransform"
    actions   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
    resources = [aws_lambda_function.transform.arn, "${aws_lambda_function.transform.arn}:*"]
  }
  statement {
    sid     = "RawTableSchema"
    actions = ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]
    resources = [
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${aws_glue_catalog_database.this.name}",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${aws_glue_catalog_database.this.name}/raw_readings",
    ]
  }
  statement {
    sid       = "LakeBucket"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [local.lake_arn]
  }
  statement {
    sid       = "RawAndErrorObjects"
    actions   = ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"]
    resources = ["${local.lake_arn}/${var.raw_prefix}*", "${local.lake_arn}/${var.errors_prefix}*"]
  }
  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "DeliveryLogs"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose.arn}:log-stream:${aws_cloudwatch_log_stream.firehose.name}"]
  }
}

resource "aws_iam_role_policy" "firehose" {
  name   = "firehose"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  #checkov:skip=CKV_AWS_240:Server-side encryption is a Direct PUT option; with a Kinesis source Firehose reads the KMS-encrypted stream and writes SSE-KMS objects (kms_key_arn below).
  #checkov:skip=CKV_AWS_241:Same: no delivery-stream SSE with a Kinesis source; the stream and the bucket use the customer-managed key.
  name        = var.delivery_stream_name
  destination = "extended_s3"

  kinesis_source_configuration {
    kinesis_stream_arn = var.stream_arn
    role_arn           = aws_iam_role.firehose.arn
  }

  extended_s3_configuration {
    role_arn    = aws_iam_role.firehose.arn
    bucket_arn  = local.lake_arn
    kms_key_arn = var.kms_key_arn
    # The transform's metadata.partitionKeys (UTC date and hour of measured_at).
    prefix              = "${var.raw_prefix}dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/"
    error_output_prefix = "${var.errors_prefix}dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}/"
    # Parquet conversion requires at least 64 MiB; the local worker flushes at the same hints.
    buffering_size     = var.buffering_size_mib
    buffering_interval = var.buffering_interval_seconds
    compression_format = "UNCOMPRESSED" # required with format conversion: Parquet compresses itself
    s3_backup_mode     = "Disabled"
    custom_time_zone   = "UTC"
    file_extension     = ".parquet"

    dynamic_partitioning_configuration {
      enabled        = true
      retry_duration = 300
    }

    processing_configuration {
      enabled = true
      processors {
        type = "Lambda"
        parameters {
          parameter_name  = "LambdaArn"
          parameter_value = "${aws_lambda_function.transform.arn}:$LATEST"
        }
        parameters {
          parameter_name  = "BufferSizeInMBs"
          parameter_value = tostring(var.transform_buffer_size_mib)
        }
        parameters {
          parameter_name  = "BufferIntervalInSeconds"
          parameter_value = tostring(var.buffering_interval_seconds)
        }
        parameters {
          parameter_name  = "NumberOfRetries"
          parameter_value = tostring(var.transform_retries)
        }
      }
    }

    data_format_conversion_configuration {
      enabled = true
      input_format_configuration {
        deserializer {
          hive_json_ser_de {
            timestamp_formats = ["millis"] # the transform writes epoch milliseconds
          }
        }
      }
      output_format_configuration {
        serializer {
          parquet_ser_de {
            compression = "SNAPPY" # Firehose offers SNAPPY, GZIP or none (the local worker writes zstd)
          }
        }
      }
      schema_configuration {
        database_name = aws_glue_catalog_database.this.name
        table_name    = aws_glue_catalog_table.this["raw_readings"].name
        role_arn      = aws_iam_role.firehose.arn
        region        = local.region
        version_id    = "LATEST"
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose.name
      log_stream_name = aws_cloudwatch_log_stream.firehose.name
    }
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.firehose]
}

# --- alarms ------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "firehose_delivery" {
  alarm_name          = "${var.delivery_stream_name}-delivery-failures"
  alarm_description   = "Firehose failed to deliver to S3 (DeliveryToS3.Success below 1): readings are piling up in the stream."
  namespace           = "AWS/Firehose"
  metric_name         = "DeliveryToS3.Success"
  dimensions          = { DeliveryStreamName = aws_kinesis_firehose_delivery_stream.this.name }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "firehose_conversion" {
  alarm_name          = "${var.delivery_stream_name}-conversion-failures"
  alarm_description   = "Records failed Parquet conversion against the Glue raw table (schema drift?); they are under the error prefix."
  namespace           = "AWS/Firehose"
  metric_name         = "FailedConversion.Records"
  dimensions          = { DeliveryStreamName = aws_kinesis_firehose_delivery_stream.this.name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "transform_errors" {
  alarm_name          = "${var.transform_function_name}-errors"
  alarm_description   = "The Firehose transform Lambda raised (Firehose retries it, then writes the batch to the error prefix)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.transform.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}
