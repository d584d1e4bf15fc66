# The ingest API: API Gateway REST (API keys + usage plan) → ingest Lambda
# (consumers/ingest_api/handler.py, Powertools APIGatewayRestResolver) → the readings stream, the
# treatments stream for insulin and carbohydrate treatments, and the erasures stream for the
# erasures of readings a Nightscout DELETE of entries makes.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # GS_INGEST_API_KEYS (glucosestream.ingest.api.auth): the handler stores hashes only and maps each
  # key to its tenant and patients; API Gateway checks the same key values for the usage plan.
  api_key_document = jsonencode({
    keys = [
      for key in var.api_keys : merge(
        { id = key.id, tenant = key.tenant, sha256 = sha256(key.value), patients = key.patients },
        key.patient_prefix == null ? {} : { patient_prefix = key.patient_prefix },
      )
    ]
  })

  # Whether the routes exist is not secret, only the secret is.
  nightscout_enabled     = nonsensitive(var.nightscout != null)
  glue_catalog           = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:catalog"
  glue_database          = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:database/${var.glue_database}"
  curated_readings_table = "arn:${data.aws_partition.current.partition}:glue:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:table/${var.glue_database}/curated_readings"
  workgroup_arn          = "arn:${data.aws_partition.current.partition}:athena:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:workgroup/${var.athena_workgroup}"

  nightscout_environment = local.nightscout_enabled ? {
    GS_INGEST_NIGHTSCOUT_SECRET  = var.nightscout.secret
    GS_INGEST_NIGHTSCOUT_PATIENT = var.nightscout.patient
    GS_INGEST_NIGHTSCOUT_TENANT  = var.nightscout.tenant
  } : {}
}

# --- Lambda --------------------------------------------------------------------------------------

# Its own logs and traces are added by the lambda_function module.
data "aws_iam_policy_document" "ingest" {
  statement {
    sid       = "PutReadings"
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary", "kinesis:ListShards"]
    resources = [var.stream_arn]
  }
  # Treatments are put in batches only (the API never aggregates, so never lists shards).
  statement {
    sid       = "PutTreatments"
    actions   = ["kinesis:PutRecords"]
    resources = [var.treatments_stream_arn]
  }
  # Erasures (a Nightscout DELETE of entries) likewise: PutRecords batches only.
  statement {
    sid       = "PutErasures"
    actions   = ["kinesis:PutRecords"]
    resources = [var.erasures_stream_arn]
  }
  # Every stream is encrypted with this key: putting needs GenerateDataKey.
  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
  # The Nightscout read path (adapters/nightscout_documents.py): batch writes, key-range Queries,
  # documents got by their references, a collection's reference marker read and put.
  statement {
    sid       = "NightscoutDocuments"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = [aws_dynamodb_table.nightscout.arn]
  }
  # /v1/alert-settings and /v1/alerts/{id}/ack: read the patient's item, conditional put.
  statement {
    sid       = "AlertControls"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:PutItem"]
    resources = [var.patient_state_table_arn]
  }
  # Entries older than the read path keeps (glucosestream/ingest/lake_entries.py): one Athena
  # SELECT of curated_readings in the workgroup, polled, its results paged.
  statement {
    sid       = "OlderEntriesQuery"
    actions   = ["athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"]
    resources = [local.workgroup_arn]
  }
  statement {
    sid       = "OlderEntriesCatalog"
    actions   = ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"]
    resources = [local.glue_catalog, local.glue_database, local.curated_readings_table]
  }
  statement {
    sid       = "OlderEntriesList"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [var.lake_bucket_arn, var.athena_results_bucket_arn]
  }
  statement {
    sid       = "OlderEntriesRead"
    actions   = ["s3:GetObject"]
    resources = ["${var.lake_bucket_arn}/${var.curated_readings_prefix}*"]
  }
  # Athena writes the query's results with the caller's credentials.
  statement {
    sid       = "OlderEntriesResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${var.athena_results_bucket_arn}/*"]
  }
}

module "ingest" {
  source = "../lambda_function"

  name               = var.function_name
  description        = "GlucoseStream ingest API: REST readings to the Kinesis stream"
  role_description   = "Ingest API Lambda: put readings, treatments and erasures to their streams, the Nightscout read path, older entries through Athena, its logs."
  policy_name        = "ingest"
  policy_json        = data.aws_iam_policy_document.ingest.json
  handler            = "consumers.ingest_api.handler.handler"
  runtime            = var.lambda_runtime
  code_zip           = var.lambda_code_zip
  layer_arns         = var.lambda_layer_arns
  memory_size        = 512
  timeout            = 29 # API Gateway's integration timeout
  kms_key_arn        = var.kms_key_arn
  log_retention_days = var.log_retention_days
  tags               = var.tags

  environment = merge(var.settings_environment, local.nightscout_environment, {
    GS_ALERTS_TOPIC_ARN     = var.alerts_topic_arn
    GS_PIPELINE_TOPIC_ARN   = var.pipeline_topic_arn
    GS_INGEST_API_KEYS      = local.api_key_document
    GS_INGEST_RECENT_DAYS   = tostring(var.nightscout_retention_days)
    POWERTOOLS_SERVICE_NAME = "ingest-api"
    POWERTOOLS_LOG_LEVEL    = var.log_level
  })
}

# --- the Nightscout read path --------------------------------------------------------------------

# Every API instance answers followers from this table, so all answer the same
# (glucosestream/ingest/api/documents.py): one item per entry, treatment or device status.
resource "aws_dynamodb_table" "nightscout" {
  name                        = var.nightscout_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "patient_id"
  range_key                   = "doc_key"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "patient_id"
    type = "S"
  }

  attribute {
    name = "doc_key"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at" # recent data only: older readings are the lake's
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

# --- REST API ------------------------------------------------------------------------------------

resource "aws_api_gateway_rest_api" "this" {
  name        = var.api_name
  description = "GlucoseStream ingest API (API key required)"
  endpoint_configuration {
    types = ["REGIONAL"]
  }
  tags = var.tags
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_api_gateway_request_validator" "this" {
  name                        = "params"
  rest_api_id                 = aws_api_gateway_rest_api.this.id
  validate_request_parameters = true
  validate_request_body       = false # the handler validates bodies against the event contract
}

resource "aws_api_gateway_resource" "proxy" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "{proxy+}"
}

# The resolver in the handler routes every path; API Gateway only authenticates (API key).
resource "aws_api_gateway_method" "proxy" {
  #checkov:skip=CKV2_AWS_70:Callers are devices and uploaders authenticated by API key and usage plan (issue 9); a Cognito or IAM authorizer would need per-device identities.
  #checkov:skip=CKV_AWS_59:Authentication is the API key (api_key_required = true) enforced by the usage plan, not an authorizer.
  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = aws_api_gateway_resource.proxy.id
  http_method          = "ANY"
  authorization        = "NONE"
  api_key_required     = true
  request_validator_id = aws_api_gateway_request_validator.this.id
}

resource "aws_api_gateway_integration" "proxy" {
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.proxy.id
  http_method             = aws_api_gateway_method.proxy.http_method
  integration_http_method = "POST"
  type                    = "AWS_PROXY"
  uri                     = module.ingest.invoke_arn
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowIngestApi"
  action        = "lambda:InvokeFunction"
  function_name = module.ingest.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_api_gateway_rest_api.this.execution_arn}/*/*"
}

# Nightscout uploaders send their API_SECRET (api-secret header), not an API Gateway key: the
# /api/... routes skip the key and the handler checks the secret. Only when Nightscout is on.
resource "aws_api_gateway_resource" "nightscout" {
  count       = local.nightscout_enabled ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_rest_api.this.root_resource_id
  path_part   = "api"
}

resource "aws_api_gateway_resource" "nightscout_proxy" {
  count       = local.nightscout_enabled ? 1 : 0
  rest_api_id = aws_api_gateway_rest_api.this.id
  parent_id   = aws_api_gateway_resource.nightscout[0].id
  path_part   = "{proxy+}"
}

resource "aws_api_gateway_method" "nightscout" {
  #checkov:skip=CKV2_AWS_70:Nightscout clients authenticate with their API_SECRET header, which the handler checks (SHA-1, as Nightscout does); they cannot send an API Gateway key.
  #checkov:skip=CKV_AWS_59:Same: authentication by the Nightscout API_SECRET in the handler; the stage throttles these routes.
  count                = local.nightscout_enabled ? 1 : 0
  rest_api_id          = aws_api_gateway_rest_api.this.id
  resource_id          = aws_api_gateway_resource.nightscout_proxy[0].id
  http_method          = "ANY"
  authorization        = "NONE"
  request_validator_id = aws_api_gateway_request_validator.this.id
}

resource "aws_api_gateway_integration" "nightscout" {
  count                   = local.nightscout_enabled ? 1 : 0
  rest_api_id             = aws_api_gateway_rest_api.this.id
  resource_id             = aws_api_gateway_resource.nightscout_proxy[0].id
  http_method             = aws_api_gateway_method.nightscout[0].http_method
  integration_http_method = "POST"
  type                    = "AWS_PROXY"
  uri                     = module.ingest.invoke_arn
}

resource "aws_api_gateway_deployment" "this" {
  rest_api_id = aws_api_gateway_rest_api.this.id
  triggers = {
    redeploy = sha1(jsonencode([
      aws_api_gateway_resource.proxy.id, aws_api_gateway_method.proxy.id, aws_api_gateway_integration.proxy.id,
      aws_api_gateway_integration.nightscout[*].id,
    ]))
  }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.api_name}/access"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_api_gateway_stage" "this" {
  #checkov:skip=CKV2_AWS_29:A WAF web ACL costs USD 5+/month plus rules; the usage plan throttles and quotas per key. Attach the account's WAF in production.
  #checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to a backend; the backend here is Lambda (AWS_PROXY), which API Gateway calls with IAM.
  #checkov:skip=CKV_AWS_120:Caching would return stale responses to POSTs of readings; nothing is cacheable.
  deployment_id        = aws_api_gateway_deployment.this.id
  rest_api_id          = aws_api_gateway_rest_api.this.id
  stage_name           = var.stage_name
  xray_tracing_enabled = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId = "$context.requestId", ip = "$context.identity.sourceIp", apiKeyId = "$context.identity.apiKeyId",
      method    = "$context.httpMethod", path = "$context.resourcePath", status = "$context.status",
      latencyMs = "$context.responseLatency", integrationStatus = "$context.integration.status"
    })
  }

  tags       = var.tags
  depends_on = [aws_api_gateway_account.this]
}

resource "aws_api_gateway_method_settings" "all" {
  #checkov:skip=CKV_AWS_225:Caching would return stale responses to POSTs of readings; nothing is cacheable.
  #checkov:skip=CKV_AWS_308:No cache (see CKV_AWS_225), so no cache data to encrypt.
  rest_api_id = aws_api_gateway_rest_api.this.id
  stage_name  = aws_api_gateway_stage.this.stage_name
  method_path = "*/*"
  settings {
    metrics_enabled        = true
    logging_level          = "ERROR"
    data_trace_enabled     = false # full request logging would write readings (health data) to logs
    throttling_rate_limit  = var.throttle_rate_limit
    throttling_burst_limit = var.throttle_burst_limit
  }
}

# API Gateway writes execution logs through one role per account and region.
data "aws_iam_policy_document" "apigateway_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["apigateway.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "apigateway_logs" {
  count              = var.manage_account_logging_role ? 1 : 0
  name               = "${var.api_name}-apigateway-logs"
  description        = "API Gateway account-level role that writes execution and access logs."
  assume_role_policy = data.aws_iam_policy_document.apigateway_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "apigateway_logs" {
  statement {
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogGroups", "logs:DescribeLogStreams", "logs:PutLogEvents", "logs:GetLogEvents", "logs:FilterLogEvents"]
    resources = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
  }
}

resource "aws_iam_role_policy" "apigateway_logs" {
  count  = var.manage_account_logging_role ? 1 : 0
  name   = "logs"
  role   = aws_iam_role.apigateway_logs[0].id
  policy = data.aws_iam_policy_document.apigateway_logs.json
}

resource "aws_api_gateway_account" "this" {
  count               = var.manage_account_logging_role ? 1 : 0
  cloudwatch_role_arn = aws_iam_role.apigateway_logs[0].arn
}

resource "aws_api_gateway_usage_plan" "this" {
  name        = "${var.api_name}-uploaders"
  description = "Uploaders of readings: throttled and capped per API key."
  api_stages {
    api_id = aws_api_gateway_rest_api.this.id
    stage  = aws_api_gateway_stage.this.stage_name
  }
  throttle_settings {
    rate_limit  = var.throttle_rate_limit
    burst_limit = var.throttle_burst_limit
  }
  quota_settings {
    limit  = var.daily_request_quota
    period = "DAY"
  }
  tags = var.tags
}

resource "aws_api_gateway_api_key" "this" {
  for_each = nonsensitive(toset([for key in var.api_keys : key.id]))
  name     = "${var.api_name}-${each.value}"
  value    = one([for key in var.api_keys : key.value if key.id == each.value])
  tags     = var.tags
}

resource "aws_api_gateway_usage_plan_key" "this" {
  for_each      = aws_api_gateway_api_key.this
  key_id        = each.value.id
  key_type      = "API_KEY"
  usage_plan_id = aws_api_gateway_usage_plan.this.id
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.function_name}-errors"
  alarm_description   = "The ingest Lambda raised: uploads are failing."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = module.ingest.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = var.tags
}
