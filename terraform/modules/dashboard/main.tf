# The dashboard: the bokeh_app container (Dockerfile beside this file) on ECS Fargate behind an
# HTTPS ALB that authenticates every request with Cognito; the task reads the marts through
# Athena with read-only data access, and its live view tails the readings stream and drains the
# dashboard's own queue on the alerts topic.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  image      = coalesce(var.image, "${aws_ecr_repository.this.repository_url}:${var.image_tag}")

  glue_catalog  = "arn:${local.partition}:glue:${local.region}:${local.account_id}:catalog"
  glue_database = "arn:${local.partition}:glue:${local.region}:${local.account_id}:database/${var.glue_database}"
  glue_tables   = "arn:${local.partition}:glue:${local.region}:${local.account_id}:table/${var.glue_database}/*"
  workgroup_arn = "arn:${local.partition}:athena:${local.region}:${local.account_id}:workgroup/${var.athena_workgroup}"
  # The live view's stream and queue, by name (as the container finds them): known at plan time.
  stream_arn = "arn:${local.partition}:kinesis:${local.region}:${local.account_id}:stream/${var.readings_stream_name}"
  queue_arn  = "arn:${local.partition}:sqs:${local.region}:${local.account_id}:${var.alerts_queue_name}"
  # The ALB's ARN up to its name (its id is only known after apply, and the task definition must
  # be known at plan time): names are unique per account and region, so it names this ALB.
  alb_arn_prefix = "arn:${local.partition}:elasticloadbalancing:${local.region}:${local.account_id}:loadbalancer/app/${var.name}/"
  # Built from the name, like the two above, so the grant is known at plan time (tests/terraform).
  ledger_arn        = "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/${var.privacy_ledger_table_name}"
  patient_state_arn = "arn:${local.partition}:dynamodb:${local.region}:${local.account_id}:table/${var.patient_state_table_name}"
}

# --- the privacy budget ledger -------------------------------------------------------------------

# ε spent in privacy mode per user (the Cognito sub the ALB passes) per calendar month
# (glucosestream/adapters/privacy_ledger.py): one item per (user_id, budget_window), charged with
# a conditional UpdateItem so that concurrent releases never overspend.
resource "aws_dynamodb_table" "privacy_ledger" {
  name                        = var.privacy_ledger_table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "user_id"
  range_key                   = "budget_window"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "user_id"
    type = "S"
  }

  attribute {
    name = "budget_window"
    type = "S"
  }

  # The ledger is the record of privacy already spent: losing it would hand the budget out again.
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
  description             = "GS_PSEUDONYM_KEY for the dashboard container"
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
  description        = "ECS agent for the dashboard: pull the image, write logs, read the pseudonym-key secret."
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
  description        = "Dashboard task: read-only queries of the lake through Athena; the live view reads the stream, drains its alerts queue and records acknowledgements."
  assume_role_policy = data.aws_iam_policy_document.tasks_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "task" {
  statement {
    sid       = "AthenaQueries"
    actions   = ["athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults", "athena:GetWorkGroup"]
    resources = [local.workgroup_arn]
  }
  statement {
    sid       = "CatalogRead"
    actions   = ["glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:GetPartition", "glue:GetPartitions", "glue:BatchGetPartition"]
    resources = [local.glue_catalog, local.glue_database, local.glue_tables]
  }
  statement {
    sid       = "LakeList"
    actions   = ["s3:GetBucketLocation", "s3:ListBucket"]
    resources = [var.lake_bucket_arn, var.athena_results_bucket_arn]
  }
  statement {
    sid       = "LakeRead"
    actions   = ["s3:GetObject"]
    resources = ["${var.lake_bucket_arn}/${var.curated_prefix}*", "${var.lake_bucket_arn}/${var.marts_prefix}*", "${var.lake_bucket_arn}/${var.raw_prefix}*"]
  }
  # Athena writes a query's results with the caller's credentials: the only write access.
  statement {
    sid       = "QueryResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${var.athena_results_bucket_arn}/*"]
  }
  # Decrypt: the lake's objects and query results, and the live view's stream records and queue
  # messages (policy "live-view" below); GenerateDataKey: the query results Athena writes.
  statement {
    sid       = "Key"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "read-lake"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# The live view (glucosestream/dashboard/live.py, LiveFeed._follow): exactly the calls it makes.
# The container finds the stream and the queue by name from Settings (GS_ENV): the names passed
# here must be ResourceNames(env).readings_stream and .dashboard_alerts_queue (tests/terraform).
data "aws_iam_policy_document" "live" {
  # ListShards (shard_ids), GetShardIterator (LATEST), GetRecords: no DescribeStream, no writes.
  statement {
    sid       = "TailReadings"
    actions   = ["kinesis:ListShards", "kinesis:GetShardIterator", "kinesis:GetRecords"]
    resources = [local.stream_arn]
  }
  # get_queue_url once, then receive_message and delete_message of what it showed.
  statement {
    sid       = "DrainAlerts"
    actions   = ["sqs:GetQueueUrl", "sqs:ReceiveMessage", "sqs:DeleteMessage"]
    resources = [local.queue_arn]
  }
  # kms:Decrypt on the key, which reading the encrypted stream and queue needs, is the role's
  # "Key" statement above (one grant for the lake and the live view). Without the key here this
  # document is known at plan time, and tests/terraform compares it with what live.py calls.
}

resource "aws_iam_role_policy" "live" {
  name   = "live-view"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.live.json
}

# The live view's "Acknowledge selected" button (glucosestream/alerts/patient_controls.py through
# adapters/patient_state.py): a consistent read of the patient's item and one conditional put.
data "aws_iam_policy_document" "acknowledge" {
  statement {
    sid       = "AcknowledgeAlerts"
    actions   = ["dynamodb:BatchGetItem", "dynamodb:PutItem"]
    resources = [local.patient_state_arn]
  }
}

resource "aws_iam_role_policy" "acknowledge" {
  name   = "acknowledge-alerts"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.acknowledge.json
}

# Privacy mode (glucosestream/adapters/privacy_ledger.py): a consistent GetItem for the balance
# and one conditional UpdateItem per release; nothing else (no Scan, no Put, no Delete).
data "aws_iam_policy_document" "ledger" {
  statement {
    sid       = "PrivacyLedger"
    actions   = ["dynamodb:GetItem", "dynamodb:UpdateItem"]
    resources = [local.ledger_arn]
  }
}

resource "aws_iam_role_policy" "ledger" {
  name   = "privacy-ledger"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.ledger.json
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

  container_definitions = jsonencode([{
    name                   = "dashboard"
    image                  = local.image
    essential              = true
    readonlyRootFilesystem = true
    user                   = "10001"
    portMappings           = [{ containerPort = var.container_port, protocol = "tcp" }]
    # Settings() in aws mode: GS_ENV names the stream and the alerts queue the live view reads
    # and the privacy ledger table (settings.names), so it must be the env those resources were
    # named for.
    environment = [
      { name = "GS_ENV", value = var.env },
      { name = "GS_MODE", value = "aws" },
      { name = "GS_REGION", value = local.region },
      { name = "GS_ALERTS_TOPIC_ARN", value = var.alerts_topic_arn },
      { name = "GS_PIPELINE_TOPIC_ARN", value = var.pipeline_topic_arn },
      # ε per user per month; the only load balancer whose signed identity the app accepts.
      { name = "GS_PRIVACY_BUDGET_EPSILON", value = tostring(var.privacy_budget_epsilon) },
      { name = "GS_DASHBOARD_ALB_ARN", value = local.alb_arn_prefix },
      # The Dockerfile's CMD and HEALTHCHECK listen and probe on this port.
      { name = "GS_DASHBOARD_PORT", value = tostring(var.container_port) },
      # bokeh serve checks the Host header against this (the ALB forwards the public name).
      { name = "BOKEH_ALLOW_WS_ORIGIN", value = var.domain_name },
    ]
    # The image's HEALTHCHECK, which ECS does not read from the image: the app's metadata
    # route answers without opening a session.
    healthCheck = {
      command     = ["CMD", "python", "-m", "glucosestream.dashboard.healthcheck"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 60
    }
    secrets = [{ name = "GS_PSEUDONYM_KEY", valueFrom = aws_secretsmanager_secret.pseudonym_key.arn }]
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this.name
        awslogs-region        = local.region
        awslogs-stream-prefix = "dashboard"
      }
    }
  }])

  tags = var.tags
}

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "Dashboard ALB: HTTPS (and the HTTP redirect) from the allowed networks"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "alb" {
  for_each          = { for pair in setproduct(var.allowed_cidrs, [80, 443]) : "${pair[0]}-${pair[1]}" => pair }
  security_group_id = aws_security_group.alb.id
  description       = each.value[1] == 443 ? "HTTPS from ${each.value[0]}" : "HTTP (redirected to HTTPS) from ${each.value[0]}"
  cidr_ipv4         = each.value[0]
  ip_protocol       = "tcp"
  from_port         = each.value[1]
  to_port           = each.value[1]
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the dashboard tasks"
  referenced_security_group_id = aws_security_group.tasks.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

resource "aws_vpc_security_group_egress_rule" "alb_to_cognito" {
  security_group_id = aws_security_group.alb.id
  description       = "To the Cognito token endpoint (authenticate-cognito)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-tasks"
  description = "Dashboard tasks: from the ALB only; out to AWS APIs over HTTPS"
  vpc_id      = var.vpc_id
  tags        = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "tasks_from_alb" {
  security_group_id            = aws_security_group.tasks.id
  description                  = "From the ALB"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

resource "aws_vpc_security_group_egress_rule" "tasks_https" {
  security_group_id = aws_security_group.tasks.id
  description       = "HTTPS to AWS APIs (Athena, S3, Kinesis, SQS, KMS, ECR, Logs) via NAT or VPC endpoints"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_ecs_service" "this" {
  name                   = var.name
  cluster                = aws_ecs_cluster.this.id
  task_definition        = aws_ecs_task_definition.this.arn
  desired_count          = var.desired_count
  launch_type            = "FARGATE"
  platform_version       = "LATEST"
  enable_execute_command = false

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.this.arn
    container_name   = "dashboard"
    container_port   = var.container_port
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  tags       = var.tags
  depends_on = [aws_lb_listener.https, aws_iam_role_policy.task, aws_iam_role_policy.live, aws_iam_role_policy.ledger]
}

# --- ALB with Cognito authentication -------------------------------------------------------------

resource "aws_lb" "this" {
  #checkov:skip=CKV_AWS_91:ALB access logs need an S3 bucket with the ELB service's write policy (usually the account's central log bucket); point access_logs there in production.
  #checkov:skip=CKV2_AWS_28:A WAF web ACL costs USD 5+/month plus rules; every request must pass Cognito authentication first. Attach the account's WAF in production.
  #checkov:skip=CKV_AWS_150:Deletion protection is var.deletion_protection (default true); checkov reads envs/dev/terraform.tfvars, where the dev environment turns it off on purpose (throwaway, destroyable).
  name                       = var.name
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.alb.id]
  subnets                    = var.public_subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  tags                       = var.tags
}

resource "aws_lb_target_group" "this" {
  name        = var.name
  port        = var.container_port
  protocol    = "HTTP" # inside the VPC; TLS ends at the ALB
  target_type = "ip"
  vpc_id      = var.vpc_id

  # bokeh serve mounts the app at /bokeh_app; its metadata route answers without opening a
  # Bokeh session (a health check every 30 s must not build a document and query Athena).
  health_check {
    path    = "/bokeh_app/metadata"
    matcher = "200"
  }

  # Bokeh sessions live in one server process: keep a browser on its task.
  stickiness {
    type    = "lb_cookie"
    enabled = true
  }

  tags = var.tags
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"
  default_action {
    type = "redirect"
    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type  = "authenticate-cognito"
    order = 1
    authenticate_cognito {
      user_pool_arn       = aws_cognito_user_pool.this.arn
      user_pool_client_id = aws_cognito_user_pool_client.this.id
      user_pool_domain    = aws_cognito_user_pool_domain.this.domain
    }
  }

  default_action {
    type             = "forward"
    order            = 2
    target_group_arn = aws_lb_target_group.this.arn
  }
}

resource "aws_cognito_user_pool" "this" {
  name                     = var.name
  deletion_protection      = var.deletion_protection ? "ACTIVE" : "INACTIVE"
  mfa_configuration        = "ON"
  auto_verified_attributes = ["email"]
  username_attributes      = ["email"]

  # Clinicians are invited by an administrator; nobody signs themselves up.
  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  software_token_mfa_configuration {
    enabled = true
  }

  password_policy {
    minimum_length                   = 14
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  tags = var.tags
}

resource "aws_cognito_user_pool_domain" "this" {
  domain       = var.cognito_domain_prefix
  user_pool_id = aws_cognito_user_pool.this.id
}

resource "aws_cognito_user_pool_client" "this" {
  name                                 = var.name
  user_pool_id                         = aws_cognito_user_pool.this.id
  generate_secret                      = true # the ALB authenticates as a confidential client
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = ["https://${var.domain_name}/oauth2/idpresponse"]
  prevent_user_existence_errors        = "ENABLED"
}
