# Firehose, one delivery stream per dataset, all defined once (for_each over local.deliveries):
# its Kinesis stream → the transform Lambda (Avro → JSON + dt/hour partition keys; one function
# for every dataset, it picks the contract by the event's deliveryStreamArn) → Parquet (schema:
# the dataset's Glue raw table) → s3://<lake>/raw/<dataset>/dt=/hour=/; failures →
# errors/<dataset>/. Each delivery stream has its own role, log group and alarms.

locals {
  lake_arn = aws_s3_bucket.this["lake"].arn

  # Dataset → its delivery stream. The keys are state addresses (["readings"] keeps the address
  # the single delivery stream had: envs/dev/moved.tf); `records` words the alarms.
  deliveries = {
    readings = {
      name          = var.delivery_stream_name
      stream_arn    = var.stream_arn
      raw_prefix    = var.raw_prefix
      errors_prefix = var.errors_prefix
      table         = "raw_readings"
      records       = "readings"
    }
    treatments = {
      name          = var.treatments_delivery_stream_name
      stream_arn    = var.treatments_stream_arn
      raw_prefix    = var.raw_treatments_prefix
      errors_prefix = var.treatment_errors_prefix
      table         = "raw_treatments"
      records       = "treatments"
    }
    erasures = {
      name          = var.erasures_delivery_stream_name
      stream_arn    = var.erasures_stream_arn
      raw_prefix    = var.raw_erasures_prefix
      errors_prefix = var.erasure_errors_prefix
      table         = "raw_erasures"
      records       = "erasures"
    }
  }
}

# --- transform Lambda ------------------------------------------------------------------------

# Its own logs and traces are added by the lambda_function module: it calls nothing else.
data "aws_iam_policy_document" "transform" {
  statement {
    sid       = "EnvironmentKey"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

module "transform" {
  source = "../lambda_function"

  name               = var.transform_function_name
  description        = "Firehose transform: Avro readings, treatments and erasures to JSON with dt/hour partition keys"
  role_description   = "Firehose transform Lambda: writes its own logs and traces, nothing else."
  policy_name        = "transform"
  policy_json        = data.aws_iam_policy_document.transform.json
  handler            = "consumers.firehose_transform.handler.lambda_handler"
  runtime            = var.lambda_runtime
  code_zip           = var.lambda_code_zip
  layer_arns         = var.lambda_layer_arns
  memory_size        = 512
  timeout            = 60 # Firehose allows the transform up to 5 minutes; a 1 MiB batch takes well under a second
  kms_key_arn        = var.kms_key_arn
  log_retention_days = var.log_retention_days
  tags               = var.tags

  environment = {
    POWERTOOLS_SERVICE_NAME = "firehose-transform"
    POWERTOOLS_LOG_LEVEL    = var.log_level
  }
}

# --- delivery streams (one per dataset) ---------------------------------------------------------

resource "aws_cloudwatch_log_group" "firehose" {
  for_each          = local.deliveries
  name              = "/aws/kinesisfirehose/${each.value.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_cloudwatch_log_stream" "firehose" {
  for_each       = local.deliveries
  name           = "DestinationDelivery"
  log_group_name = aws_cloudwatch_log_group.firehose[each.key].name
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

# One role per delivery stream: each reads its own stream and table, writes its own prefixes.
resource "aws_iam_role" "firehose" {
  for_each           = local.deliveries
  name               = "${each.value.name}-firehose"
  description        = "Firehose ${each.value.name}: read the stream, invoke the transform, read the raw table schema, write the raw zone."
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "firehose" {
  for_each = local.deliveries
  statement {
    sid       = "ReadStream"
    actions   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetShardIterator", "kinesis:GetRecords", "kinesis:ListShards"]
    resources = [each.value.stream_arn]
  }
  statement {
    sid       = "InvokeTransform"
    actions   = ["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"]
    resources = [module.transform.function_arn, "${module.transform.function_arn}:*"]
  }
  statement {
    sid     = "RawTableSchema"
    actions = ["glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions"]
    resources = [
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${aws_glue_catalog_database.this.name}",
      "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${aws_glue_catalog_database.this.name}/${each.value.table}",
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
    resources = ["${local.lake_arn}/${each.value.raw_prefix}*", "${local.lake_arn}/${each.value.errors_prefix}*"]
  }
  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  statement {
    sid       = "DeliveryLogs"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.firehose[each.key].arn}:log-stream:${aws_cloudwatch_log_stream.firehose[each.key].name}"]
  }
}

resource "aws_iam_role_policy" "firehose" {
  for_each = local.deliveries
  name     = "firehose"
  role     = aws_iam_role.firehose[each.key].id
  policy   = data.aws_iam_policy_document.firehose[each.key].json
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  #checkov:skip=CKV_AWS_240:Server-side encryption is a Direct PUT option; with a Kinesis source Firehose reads the KMS-encrypted stream and writes SSE-KMS objects (kms_key_arn below).
  #checkov:skip=CKV_AWS_241:Same: no delivery-stream SSE with a Kinesis source; the stream and the bucket use the customer-managed key.
  for_each    = local.deliveries
  name        = each.value.name
  destination = "extended_s3"

  kinesis_source_configuration {
    kinesis_stream_arn = each.value.stream_arn
    role_arn           = aws_iam_role.firehose[each.key].arn
  }

  extended_s3_configuration {
    role_arn    = aws_iam_role.firehose[each.key].arn
    bucket_arn  = local.lake_arn
    kms_key_arn = var.kms_key_arn
    # The transform's metadata.partitionKeys (UTC date and hour of measured_at, of treated_at,
    # of the erased reading's measured_at).
    prefix              = "${each.value.raw_prefix}dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/"
    error_output_prefix = "${each.value.errors_prefix}dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/!{firehose:error-output-type}/"
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
          parameter_value = "${module.transform.function_arn}:$LATEST"
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
        table_name    = aws_glue_catalog_table.this[each.value.table].name
        role_arn      = aws_iam_role.firehose[each.key].arn
        region        = local.region
        version_id    = "LATEST"
      }
    }

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.firehose[each.key].name
      log_stream_name = aws_cloudwatch_log_stream.firehose[each.key].name
    }
  }

  tags = var.tags
  # Every role policy, not only this stream's: a resource's depends_on cannot pick an instance.
  depends_on = [aws_iam_role_policy.firehose]
}

# --- alarms ------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "firehose_delivery" {
  for_each            = local.deliveries
  alarm_name          = "${each.value.name}-delivery-failures"
  alarm_description   = "Firehose failed to deliver to S3 (DeliveryToS3.Success below 1): ${each.value.records} are piling up in the stream."
  namespace           = "AWS/Firehose"
  metric_name         = "DeliveryToS3.Success"
  dimensions          = { DeliveryStreamName = aws_kinesis_firehose_delivery_stream.this[each.key].name }
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
  for_each            = local.deliveries
  alarm_name          = "${each.value.name}-conversion-failures"
  alarm_description   = "Records failed Parquet conversion against the Glue raw table (schema drift?); they are under the error prefix."
  namespace           = "AWS/Firehose"
  metric_name         = "FailedConversion.Records"
  dimensions          = { DeliveryStreamName = aws_kinesis_firehose_delivery_stream.this[each.key].name }
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
  dimensions          = { FunctionName = module.transform.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}
