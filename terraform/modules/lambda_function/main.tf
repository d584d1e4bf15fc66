# One Lambda function as every module of this repository deploys it: its execution role (trusted
# by lambda.amazonaws.com) with one inline policy, a KMS-encrypted log group with retention, and
# the function (the project zip + the runtime layer, x86_64, environment encrypted with the key,
# active tracing). The caller passes its function's least-privilege policy as JSON; this module
# adds only what its own resources need: writing to its log group and sending traces.

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-lambda"
  description        = var.role_description
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "this" {
  #checkov:skip=CKV_AWS_356:X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; AWS requires "*" (every function of this module traces).
  source_policy_documents = [var.policy_json]
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"] # required: X-Ray has no resource-level permissions for these actions
  }
}

resource "aws_iam_role_policy" "this" {
  name   = var.policy_name
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

# The skips below apply to every caller (alerts consumer, Firehose transform, ELT pipeline, ingest
# API); each reason holds for all of them. A new caller for which one does not hold needs the
# setting itself (a variable here), not another skip.
resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Every caller invokes synchronously and handles failures itself (Firehose retries the transform, the Kinesis mapping has its on-failure SQS destination, Step Functions retries and catches, API Gateway returns errors to the client); a Lambda DLQ only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:The functions call only AWS APIs (Kinesis, DynamoDB, SNS, SQS, Athena, Glue, S3) or nothing (the transform), no private resource; a VPC would add NAT or endpoint cost and cold-start latency without isolating anything.
  #checkov:skip=CKV_AWS_115:Every caller bounds concurrency itself (Firehose per delivery stream, the mapping one batch per shard, one state-machine execution at a time, the usage plan's throttle); reserved concurrency needs an account limit above the default 10.
  #checkov:skip=CKV_AWS_272:Code signing needs a Signer profile and signed artefacts from CI; the zips are reproducible and their SHA-256 is pinned by source_code_hash.
  function_name    = var.name
  description      = var.description
  role             = aws_iam_role.this.arn
  handler          = var.handler
  runtime          = var.runtime
  architectures    = ["x86_64"]
  filename         = var.code_zip
  source_code_hash = filebase64sha256(var.code_zip)
  layers           = var.layer_arns
  memory_size      = var.memory_size
  timeout          = var.timeout
  kms_key_arn      = var.kms_key_arn

  environment {
    variables = var.environment
  }

  tracing_config {
    mode = "Active"
  }

  tags       = var.tags
  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}
