# The ELT: the pipeline Lambda (one step per invocation), the grid-metrics Lambda (one batch of
# patient chunks per invocation, under the pipeline's Distributed Map), the Step Functions state
# machine of sfn/pipeline.asl.json (placeholders filled by templatefile), its schedule and alarms.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  glue_catalog  = "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog"
  glue_database = "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${var.glue_database}"
  glue_tables   = "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${var.glue_database}/*"
  workgroup_arn = "arn:${local.partition}:athena:${local.region}:${local.account_id}:workgroup/${var.athena_workgroup}"
  data_catalog  = "arn:${local.partition}:athena:${local.region}:${local.account_id}:datacatalog/AwsDataCatalog"
  # Built from the name (and the state machine depends on the function): the definition is then
  # known at plan time and reviewable in `terraform plan`.
  function_arn = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.function_name}"
  grid_arn     = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.grid_metrics_function_name}"
  # A Distributed Map starts child executions of its own state machine: the role names it by ARN
  # (built from the name: the machine depends on the role's policy).
  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.state_machine_name}"
  executions_arn    = "arn:${local.partition}:states:${local.region}:${local.account_id}:execution:${var.state_machine_name}"

  # Every value sfn/pipeline.asl.json may name as ${...}; templatefile fails on a placeholder
  # missing here (and tests/terraform checks the rendered definition has none left).
  definition_vars = {
    pipeline_function_arn     = local.function_arn
    grid_metrics_function_arn = local.grid_arn
    pipeline_topic_arn        = var.pipeline_topic_arn
    alerts_topic_arn          = var.alerts_topic_arn
    athena_workgroup          = var.athena_workgroup
    glue_database             = var.glue_database
    lake_bucket               = var.lake_bucket
    athena_results_bucket     = var.athena_results_bucket
    athena_results_location   = "s3://${var.athena_results_bucket}/"
    region                    = local.region
    env                       = var.env
  }
}

# --- the Athena/Glue/S3 access the ELT needs, shared by the Lambda and the state machine ---------

data "aws_iam_policy_document" "elt_data" {
  statement {
    sid       = "AthenaQueries"
    actions   = ["athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:GetWorkGroup"]
    resources = [local.workgroup_arn]
  }
  statement {
    sid       = "AthenaCatalog" # startQueryExecution.sync reads the catalog it queries
    actions   = ["athena:GetDataCatalog"]
    resources = [local.data_catalog]
  }
  statement {
    sid = "GlueCatalog"
    actions = [
      "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions",
      "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable",
      # Publishing: partitions pointed at versioned prefixes (docs/adr/0004-atomic-publish.md).
      "glue:BatchGetPartition", "glue:BatchCreatePartition", "glue:BatchUpdatePartition", "glue:BatchDeletePartition",
      "glue:CreatePartition", "glue:DeletePartition", "glue:UpdatePartition",
    ]
    resources = [local.glue_catalog, local.glue_database, local.glue_tables]
  }
  statement {
    sid       = "Buckets"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"]
    resources = [var.lake_bucket_arn, var.athena_results_bucket_arn]
  }
  statement {
    sid       = "ReadRaw"
    actions   = ["s3:GetObject"]
    resources = ["${var.lake_bucket_arn}/${var.raw_prefix}*"]
  }
  # raw_treatments: the curated_treatments statements read it (their output is under curated/,
  # their partitions are registered in the database, both granted above and below).
  statement {
    sid       = "ReadRawTreatments"
    actions   = ["s3:GetObject"]
    resources = ["${var.lake_bucket_arn}/${var.raw_treatments_prefix}*"]
  }
  # raw_erasures: the curated_readings statements read it to leave erased readings out (the
  # planner also lists it, under the bucket's ListBucket above, to rebuild the partitions an
  # erasure lands in).
  statement {
    sid       = "ReadRawErasures"
    actions   = ["s3:GetObject"]
    resources = ["${var.lake_bucket_arn}/${var.raw_erasures_prefix}*"]
  }
  statement {
    sid     = "WriteCuratedMartsAndResults"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = [
      "${var.lake_bucket_arn}/${var.curated_prefix}*",
      "${var.lake_bucket_arn}/${var.marts_prefix}*",
      "${var.lake_bucket_arn}/${var.pipeline_state_prefix}*",
      # The grid metrics' work: the staging UNLOAD writes <run>/input/, the period marts read
      # <run>/output/ (the staging tables' partitions) and the run deletes both at the end.
      "${var.lake_bucket_arn}/${var.grid_work_prefix}*",
      "${var.athena_results_bucket_arn}/*",
    ]
  }
  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

# --- pipeline Lambda -----------------------------------------------------------------------------

# Its policy is the ELT data access above; its own logs and traces are added by the module.
module "pipeline" {
  source = "../lambda_function"

  name             = var.function_name
  description      = "GlucoseStream ELT pipeline steps (plan, curate, quality, marts, commit, record)"
  role_description = "Pipeline Lambda: Athena queries over the lake, Glue catalog, its logs."
  policy_name      = "pipeline"
  policy_json      = data.aws_iam_policy_document.elt_data.json
  handler          = "consumers.pipeline.handler.lambda_handler"
  runtime          = var.lambda_runtime
  code_zip         = var.lambda_code_zip
  # pyarrow (analytics layer) writes the data-quality results and the run's row and reads the
  # footers of the schema-drift check; the Athena statements need nothing else.
  layer_arns         = concat(var.lambda_layer_arns, var.analytics_layer_arns)
  memory_size        = 1024
  timeout            = 900 # Athena statements of a backfill can take minutes
  kms_key_arn        = var.kms_key_arn
  log_retention_days = var.log_retention_days
  tags               = var.tags

  environment = merge(var.settings_environment, {
    GS_ALERTS_TOPIC_ARN     = var.alerts_topic_arn
    GS_PIPELINE_TOPIC_ARN   = var.pipeline_topic_arn
    GS_STATE_DIR            = "/tmp/gs" # the only writable path in Lambda
    POWERTOOLS_SERVICE_NAME = "pipeline"
    POWERTOOLS_LOG_LEVEL    = var.log_level
  })
}

# --- grid-metrics Lambda (the Distributed Map's per-chunk numpy) ---------------------------------

# Reads the run's staging chunks and writes their metrics and episodes, nothing else: the
# staging input (written by Athena) is read-only to it, the marts are not reachable.
data "aws_iam_policy_document" "grid_metrics" {
  statement {
    sid       = "ListChunks" # a chunk's files, to find the chunk's first key
    actions   = ["s3:ListBucket"]
    resources = [var.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.grid_work_prefix}*"]
    }
  }
  statement {
    sid       = "ReadStagingChunks"
    actions   = ["s3:GetObject"]
    resources = ["${var.lake_bucket_arn}/${var.grid_work_prefix}*/input/*"]
  }
  statement {
    sid       = "WriteChunkMetrics"
    actions   = ["s3:PutObject"]
    resources = ["${var.lake_bucket_arn}/${var.grid_work_prefix}*/output/*"]
  }
  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

module "grid_metrics" {
  source = "../lambda_function"

  name               = var.grid_metrics_function_name
  description        = "GlucoseStream grid metrics (CONGA, MODD, MAG, MAGE, active %, episodes) of a batch of patient chunks"
  role_description   = "Grid-metrics Lambda: read the run's staging chunks, write their metrics, its logs."
  policy_name        = "grid-metrics"
  policy_json        = data.aws_iam_policy_document.grid_metrics.json
  handler            = "consumers.grid_metrics.handler.lambda_handler"
  runtime            = var.lambda_runtime
  code_zip           = var.lambda_code_zip
  layer_arns         = concat(var.lambda_layer_arns, var.analytics_layer_arns)
  memory_size        = var.grid_metrics_memory_mb
  timeout            = 240 # under the 5-minute limit of the EXPRESS child executions that call it
  kms_key_arn        = var.kms_key_arn
  log_retention_days = var.log_retention_days
  tags               = var.tags

  environment = merge(var.settings_environment, {
    GS_ALERTS_TOPIC_ARN     = var.alerts_topic_arn
    GS_PIPELINE_TOPIC_ARN   = var.pipeline_topic_arn
    POWERTOOLS_SERVICE_NAME = "grid-metrics"
    POWERTOOLS_LOG_LEVEL    = var.log_level
  })
}

# --- state machine -------------------------------------------------------------------------------

data "aws_iam_policy_document" "states_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "state_machine" {
  name               = "${var.state_machine_name}-states"
  description        = "State machine ${var.state_machine_name}: invoke the pipeline Lambda, run Athena queries, notify the pipeline topic, log."
  assume_role_policy = data.aws_iam_policy_document.states_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "state_machine" {
  #checkov:skip=CKV_AWS_356:CloudWatch Logs vended-log delivery actions and X-Ray support no resource-level permissions; AWS requires "*" (each statement commented).
  #checkov:skip=CKV_AWS_111:The log-delivery write actions are the ones Step Functions documents for logging; they cannot be constrained to a resource.
  source_policy_documents = [data.aws_iam_policy_document.elt_data.json]
  statement {
    sid       = "InvokePipeline"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.pipeline.function_arn, "${module.pipeline.function_arn}:*"]
  }
  statement {
    sid       = "InvokeGridMetrics"
    actions   = ["lambda:InvokeFunction"]
    resources = [module.grid_metrics.function_arn, "${module.grid_metrics.function_arn}:*"]
  }
  statement {
    sid       = "GridMapItemReader" # the Distributed Map lists the run's staging chunks
    actions   = ["s3:ListBucket"]
    resources = [var.lake_bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.grid_work_prefix}*"]
    }
  }
  statement {
    sid       = "DistributedMapChildren" # a Distributed Map runs child executions of this machine
    actions   = ["states:StartExecution"]
    resources = [local.state_machine_arn]
  }
  statement {
    sid       = "DistributedMapRuns"
    actions   = ["states:DescribeExecution", "states:StopExecution"]
    resources = ["${local.executions_arn}:*", "${local.executions_arn}/*"]
  }
  statement {
    sid       = "Notify"
    actions   = ["sns:Publish"]
    resources = [var.pipeline_topic_arn]
  }
  statement {
    sid = "LogDelivery"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
    ]
    resources = ["*"] # required: log-delivery actions have no resource-level permissions (Step Functions logging docs)
  }
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
    resources = ["*"] # required: X-Ray has no resource-level permissions for these actions
  }
}

resource "aws_iam_role_policy" "state_machine" {
  name   = "state-machine"
  role   = aws_iam_role.state_machine.id
  policy = data.aws_iam_policy_document.state_machine.json
}

resource "aws_cloudwatch_log_group" "state_machine" {
  name              = "/aws/vendedlogs/states/${var.state_machine_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sfn_state_machine" "this" {
  #checkov:skip=CKV_AWS_285:Execution events are logged (level ALL) without their payloads: states carry failing data-quality rows (pseudonyms, glucose values). Step Functions keeps the full history, with data, for 90 days.
  name       = var.state_machine_name
  role_arn   = aws_iam_role.state_machine.arn
  type       = "STANDARD"
  definition = templatefile(var.definition_path, local.definition_vars)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.state_machine.arn}:*"
    include_execution_data = false # states carry run ids and failing checks' sample rows: keep them out of logs
    level                  = "ALL"
  }

  tracing_configuration {
    enabled = true
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.state_machine, module.pipeline, module.grid_metrics]
}

# --- schedule ------------------------------------------------------------------------------------

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.state_machine_name}-scheduler"
  description        = "EventBridge Scheduler: start the pipeline state machine."
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    actions   = ["states:StartExecution"]
    resources = [aws_sfn_state_machine.this.arn]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "start-pipeline"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}

resource "aws_scheduler_schedule" "this" {
  name                = var.state_machine_name
  description         = "Runs the ELT pipeline; each run is incremental (the dt partitions that received data)."
  schedule_expression = var.schedule_expression
  state               = var.schedule_enabled ? "ENABLED" : "DISABLED"
  kms_key_arn         = var.kms_key_arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_sfn_state_machine.this.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({})
    retry_policy {
      maximum_retry_attempts       = 3
      maximum_event_age_in_seconds = 3600
    }
  }
}

# --- alarms --------------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "executions_failed" {
  alarm_name          = "${var.state_machine_name}-executions-failed"
  alarm_description   = "A pipeline run failed (a step after its retries, or the data-quality gate): marts were not rebuilt."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsFailed"
  dimensions          = { StateMachineArn = aws_sfn_state_machine.this.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.pipeline_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "executions_timed_out" {
  alarm_name          = "${var.state_machine_name}-executions-timed-out"
  alarm_description   = "A pipeline run timed out."
  namespace           = "AWS/States"
  metric_name         = "ExecutionsTimedOut"
  dimensions          = { StateMachineArn = aws_sfn_state_machine.this.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.pipeline_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "grid_metrics_errors" {
  alarm_name          = "${var.grid_metrics_function_name}-lambda-errors"
  alarm_description   = "The grid-metrics Lambda raised (the Distributed Map retries service errors; a failed batch fails the run)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = module.grid_metrics.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.pipeline_topic_arn]
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  alarm_name          = "${var.function_name}-lambda-errors"
  alarm_description   = "The pipeline Lambda raised (Step Functions retries transient errors; see the execution)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = module.pipeline.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.pipeline_topic_arn]
  tags                = var.tags
}
