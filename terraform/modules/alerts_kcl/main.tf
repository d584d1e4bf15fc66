# The alerts consumer as a Kinesis Client Library application: the KCL's MultiLangDaemon (Java)
# running consumers/alerts_kcl/processor.py for each shard it leases, as an ECS Fargate service
# (image: the Dockerfile beside this file). It applies the Lambda consumer's AlertConsumer to the
# readings stream: the same patient-state table, alerts topic and dead-letter queue.
#
# The KCL keeps its leases and coordination in three DynamoDB tables. They are created here, with
# the schemas KCL 3.x creates them with (and the lease table's LeaseOwnerToLeaseKeyIndex), so the
# KCL finds them and creates nothing: the task role needs no CreateTable or UpdateTable.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  image      = coalesce(var.image, "${aws_ecr_repository.this.repository_url}:${var.image_tag}")

  # ARNs built from names, as the container finds the resources (settings.names from GS_ENV), so
  # the task role's consume policy is known at plan time (tests/terraform compares it).
  table_arn_prefix  = "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table"
  stream_arn        = "arn:${local.partition}:kinesis:${local.region}:${local.account_id}:stream/${var.readings_stream_name}"
  lease_table_arn   = "${local.table_arn_prefix}/${var.name}"
  lease_index_arn   = "${local.table_arn_prefix}/${var.name}/index/${local.lease_owner_index}"
  coordinator_arn   = "${local.table_arn_prefix}/${var.coordinator_table_name}"
  worker_stats_arn  = "${local.table_arn_prefix}/${var.worker_metrics_table_name}"
  patient_state_arn = "${local.table_arn_prefix}/${var.patient_state_table_name}"
  dlq_arn           = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${var.dlq_name}"

  # KCL 3.x queries the lease table by owner through this index (DynamoDBLeaseRefresher).
  lease_owner_index = "LeaseOwnerToLeaseKeyIndex"

  # ECS waits this long after SIGTERM before SIGKILL: the daemon's graceful shutdown (each
  # record processor checkpoints what it applied) takes up to shutdownGraceMillis.
  stop_timeout_s = ceil(var.shutdown_grace_ms / 1000) + 20
}

# --- the KCL's tables ----------------------------------------------------------------------------

# Leases: one item per shard (owner, counter, checkpoint). The name is the KCL application name.
resource "aws_dynamodb_table" "leases" {
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "leaseKey"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "leaseKey"
    type = "S"
  }

  attribute {
    name = "leaseOwner"
    type = "S"
  }

  # What the KCL would add itself (UpdateTable) at its first start: owner → lease keys, keys only.
  global_secondary_index {
    name            = local.lease_owner_index
    hash_key        = "leaseOwner"
    range_key       = "leaseKey"
    projection_type = "KEYS_ONLY"
  }

  # The checkpoints: losing them replays the stream's retention (duplicates the engine drops).
  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}

# The leader lock and the KCL's client-version (migration) state.
resource "aws_dynamodb_table" "coordinator_state" {
  name                        = var.coordinator_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "key"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "key"
    type = "S"
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

# Each worker's load (CPU), which the leader balances leases by.
resource "aws_dynamodb_table" "worker_metric_stats" {
  name                        = var.worker_metrics_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "wid"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "wid"
    type = "S"
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

# --- image ---------------------------------------------------------------------------------------

resource "aws_ecr_repository" "this" {
  name                 = var.name
  image_tag_mutability = "IMMUTABLE" # a tag names one build: deployments are reproducible
  force_delete         = var.force_destroy
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }
  tags = var.tags
}

resource "aws_ecr_lifecycle_policy" "this" {
  repository = aws_ecr_repository.this.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "keep the last 20 images"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 20 }
      action       = { type = "expire" }
    }]
  })
}

# --- the pseudonym key, handed to the container as a secret (never in the task definition) -----

resource "aws_secretsmanager_secret" "pseudonym_key" {
  #checkov:skip=CKV2_AWS_57:The HMAC key cannot rotate automatically: every pseudonym would change and the lake's patient ids would stop joining. Rotation is a re-keying project.
  name                    = "${var.name}/pseudonym-key"
  description             = "GS_PSEUDONYM_KEY for the alerts KCL consumer container"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.force_destroy ? 0 : 30
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "pseudonym_key" {
  secret_id     = aws_secretsmanager_secret.pseudonym_key.id
  secret_string = var.pseudonym_key
}

# --- IAM -----------------------------------------------------------------------------------------

data "aws_iam_policy_document" "tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-execution"
  description        = "ECS agent for the alerts KCL consumer: pull the image, write logs, read the pseudonym-key secret."
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "execution" {
  #checkov:skip=CKV_AWS_356:ecr:GetAuthorizationToken supports no resource-level permissions; AWS requires "*".
  statement {
    sid       = "EcrToken"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # required: GetAuthorizationToken has no resource-level permissions
  }
  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = [aws_ecr_repository.this.arn]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }
  statement {
    sid       = "Secret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.pseudonym_key.arn]
  }
  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "execution"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_iam_role" "task" {
  name               = "${var.name}-task"
  description        = "Alerts KCL consumer: read the readings stream, keep the KCL's leases, read/write patient state, publish alerts, dead-letter undecodable records, KCL metrics."
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
  tags               = var.tags
}

# Exactly what the container calls: the KCL 3.x daemon (Java) for the stream, its three tables and
# its metrics; the record processor (consumers/alerts_kcl/processor.py, the Lambda's
# AlertConsumer) for the patient state, the alerts topic and the dead-letter queue. Every
# resource is named by ARN, one statement each.
data "aws_iam_policy_document" "consume" {
  # Polling retrieval (retrievalMode POLLING): no enhanced fan-out, so no consumer registration.
  statement {
    sid       = "ReadStream"
    actions   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:GetShardIterator", "kinesis:GetRecords"]
    resources = [local.stream_arn]
  }
  # DynamoDBLeaseRefresher: list (Scan), read, create, renew/take/checkpoint (conditional
  # UpdateItem), delete finished shards' leases; DescribeTable finds the table and its index.
  statement {
    sid       = "Leases"
    actions   = ["dynamodb:DescribeTable", "dynamodb:Scan", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [local.lease_table_arn]
  }
  # A worker's leases, by owner (listLeaseKeysForWorker).
  statement {
    sid       = "LeaseOwnerIndex"
    actions   = ["dynamodb:Query"]
    resources = [local.lease_index_arn]
  }
  # CoordinatorStateDAO (migration state: Scan, GetItem, conditional PutItem/UpdateItem) and the
  # DynamoDB lock client's leader lock (GetItem, PutItem, UpdateItem heartbeats, DeleteItem on
  # release).
  statement {
    sid       = "CoordinatorState"
    actions   = ["dynamodb:DescribeTable", "dynamodb:Scan", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [local.coordinator_arn]
  }
  # WorkerMetricStatsDAO: each worker updates its own item; the leader scans them and deletes
  # stale workers' items.
  statement {
    sid       = "WorkerMetricStats"
    actions   = ["dynamodb:DescribeTable", "dynamodb:Scan", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [local.worker_stats_arn]
  }
  # The same calls as the alerts Lambda's role (modules/alerting, statement PatientState).
  statement {
    sid       = "PatientState"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:PutItem"]
    resources = [local.patient_state_arn]
  }
  statement {
    sid       = "PublishAlerts"
    actions   = ["sns:Publish"]
    resources = [var.alerts_topic_arn]
  }
  # SqsQueue: GetQueueUrl once (by name), then SendMessage of each undecodable record.
  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
    resources = [local.dlq_arn]
  }
  # metricsLevel SUMMARY: the KCL publishes under the namespace of its application name.
  statement {
    sid       = "KclMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"] # required: PutMetricData has no resource-level permissions (the condition scopes it)
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.name]
    }
  }
}

resource "aws_iam_role_policy" "consume" {
  name   = "consume"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.consume.json
}

# The stream, the topic and the queue are encrypted with the environment's key (as the Lambda
# role's Key statement): reading the stream needs Decrypt, publishing and sending GenerateDataKey.
# A policy of its own keeps the consume document known at plan time (the key's ARN is not).
data "aws_iam_policy_document" "key" {
  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "key" {
  name   = "key"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.key.json
}

# --- ECS -----------------------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  name              = "/ecs/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_ecs_cluster" "this" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
  tags = var.tags
}

resource "aws_ecs_task_definition" "this" {
  family                   = var.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The only writable path: the entry point writes the daemon's properties file here, the JVM
  # its temporary files.
  volume {
    name = "tmp"
  }

  container_definitions = jsonencode([{
    name                   = "alerts-kcl"
    image                  = local.image
    essential              = true
    readonlyRootFilesystem = true
    user                   = "10001"
    stopTimeout            = local.stop_timeout_s
    mountPoints            = [{ sourceVolume = "tmp", containerPath = "/tmp", readOnly = false }]
    # Settings() in aws mode, as the alerts Lambda gets them (settings_environment + the topic
    # ARNs + the staleness bound): GS_ENV names the stream, the KCL application and its tables,
    # the patient-state table and the dead-letter queue (settings.names), so it must be the env
    # those resources were named for.
    environment = [
      { name = "GS_ENV", value = var.env },
      { name = "GS_MODE", value = "aws" },
      { name = "GS_REGION", value = local.region },
      { name = "GS_ALERTS_TOPIC_ARN", value = var.alerts_topic_arn },
      { name = "GS_PIPELINE_TOPIC_ARN", value = var.pipeline_topic_arn },
      { name = "GS_ALERT_STALENESS_MINUTES", value = tostring(var.alert_staleness_minutes) },
      # The daemon's shutdownGraceMillis (entrypoint.py); stopTimeout above leaves it room.
      { name = "KCL_SHUTDOWN_GRACE_MILLIS", value = tostring(var.shutdown_grace_ms) },
    ]
    secrets = [{ name = "GS_PSEUDONYM_KEY", valueFrom = aws_secretsmanager_secret.pseudonym_key.arn }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "alerts-kcl"
      }
    }
  }])

  tags = var.tags
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "Alerts KCL consumer tasks: no inbound; out to AWS APIs over HTTPS"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (Kinesis, DynamoDB, SNS, SQS, KMS, CloudWatch, ECR, Logs, Secrets Manager) via NAT or VPC endpoints"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# The KCL balances the shards' leases across the running tasks (one worker each): more tasks
# than shards leave the extra ones idle, standing by.
resource "aws_ecs_service" "this" {
  name                   = var.name
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.this.arn
  desired_count          = var.desired_count
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  enable_execute_command = false

  # A new task starts before the old one stops: leases move to it as the old worker shuts down.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = var.assign_public_ip
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  tags = var.tags
  # The daemon finds its tables and needs its grants from its first call.
  depends_on = [
    aws_iam_role_policy.consume, aws_iam_role_policy.key, aws_iam_role_policy.execution,
    aws_dynamodb_table.leases, aws_dynamodb_table.coordinator_state, aws_dynamodb_table.worker_metric_stats,
  ]
}

# --- alarms --------------------------------------------------------------------------------------

# The application-wide lag (Operation ApplicationTracker: the maximum over every shard), as the
# Lambda consumer's IteratorAge alarm.
resource "aws_cloudwatch_metric_alarm" "lag" {
  alarm_name          = "${var.name}-millis-behind-latest"
  alarm_description   = "The KCL alerts consumer lags the stream: alerts reach patients late."
  namespace           = var.name
  metric_name         = "MillisBehindLatest"
  dimensions          = { Operation = "ApplicationTracker" }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.lag_alarm_ms
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}

# No task running means no alerts from this consumer (Container Insights reports the count).
resource "aws_cloudwatch_metric_alarm" "running_tasks" {
  alarm_name          = "${var.name}-running-tasks"
  alarm_description   = "No KCL alerts consumer task is running: readings are not checked for alerts by it."
  namespace           = "ECS/ContainerInsights"
  metric_name         = "RunningTaskCount"
  dimensions          = { ClusterName = aws_ecs_cluster.this.name, ServiceName = var.name }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}
