variable "name" {
  type        = string
  description = "The KCL application name, ResourceNames(env).alerts_kcl_application (gs-<env>-alerts-kcl): the lease table, ECS cluster, service, task family, ECR repository and the KCL's CloudWatch namespace."
}

variable "coordinator_table_name" {
  type        = string
  description = "The KCL's coordinator-state table: ResourceNames(env).alerts_kcl_coordinator_table (<name>-CoordinatorState, the name the KCL derives)."
}

variable "worker_metrics_table_name" {
  type        = string
  description = "The KCL's worker-metrics table: ResourceNames(env).alerts_kcl_worker_metrics_table (<name>-WorkerMetricStats, the name the KCL derives)."
}

variable "env" {
  type        = string
  description = "Deployment environment (GS_ENV of the container): the names the container derives must be the ones passed here."
}

variable "image" {
  type        = string
  description = "Full image reference to run; null: <the module's ECR repository>:<image_tag>."
  default     = null
}

variable "image_tag" {
  type        = string
  description = "Tag of the image in the module's ECR repository (immutable tags: one per build)."
  default     = "latest"
}

variable "cpu" {
  type        = number
  description = "Fargate task CPU units (256 = 0.25 vCPU)."
  default     = 512
}

variable "memory" {
  type        = number
  description = "Fargate task memory (MiB): the JVM (-Xmx512m) plus one Python record processor per leased shard."
  default     = 2048
}

variable "desired_count" {
  type        = number
  description = "Running tasks (KCL workers). The KCL balances the shards' leases across them; tasks beyond the shard count stand by."
  default     = 1

  validation {
    condition     = var.desired_count >= 1
    error_message = "desired_count must be at least 1 (to stop this consumer, set alerts_consumer = \"lambda\")."
  }
}

variable "shutdown_grace_ms" {
  type        = number
  description = "The daemon's shutdownGraceMillis (processors checkpoint on SIGTERM); the container's stopTimeout is this plus 20 s."
  default     = 10000

  validation {
    condition     = var.shutdown_grace_ms >= 1000 && var.shutdown_grace_ms <= 100000
    error_message = "shutdown_grace_ms must be 1000-100000 (Fargate's stopTimeout is at most 120 s; 0 makes the KCL's shutdown throw)."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the tasks (their security group). Required when the module is deployed (alerts_consumer kcl or both)."

  validation {
    condition     = var.vpc_id != null
    error_message = "The KCL alerts consumer needs a network: set alerts_kcl = { vpc_id = ..., subnet_ids = [...] } in envs/dev when alerts_consumer is \"kcl\" or \"both\"."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Subnets of the tasks (private, with a NAT gateway or VPC endpoints for Kinesis, DynamoDB, SNS, SQS, KMS, CloudWatch, ECR, Logs, Secrets Manager)."

  validation {
    condition     = try(length(var.subnet_ids) > 0, false)
    error_message = "The KCL alerts consumer needs subnets: set alerts_kcl.subnet_ids in envs/dev when alerts_consumer is \"kcl\" or \"both\"."
  }
}

variable "assign_public_ip" {
  type        = bool
  description = "Give each task a public IP (public subnets without NAT). Default: private subnets."
  default     = false
}

variable "readings_stream_name" {
  type        = string
  description = "The readings stream the KCL consumes: ResourceNames(env).readings_stream, the name the container derives from GS_ENV."
}

variable "patient_state_table_name" {
  type        = string
  description = "The alerts' patient-state table (shared with the Lambda consumer): ResourceNames(env).patient_state_table."
}

variable "dlq_name" {
  type        = string
  description = "The alerts dead-letter queue (shared with the Lambda consumer's on-failure destination): ResourceNames(env).alerts_dlq."
}

variable "alerts_topic_arn" {
  type        = string
  description = "Alerts topic ARN (GS_ALERTS_TOPIC_ARN; the task role may publish there only)."
}

variable "pipeline_topic_arn" {
  type        = string
  description = "Pipeline topic ARN (GS_PIPELINE_TOPIC_ARN, as the Lambda consumer gets it)."
}

variable "alert_staleness_minutes" {
  type        = number
  description = "GS_ALERT_STALENESS_MINUTES: readings arriving later than this after measurement never page (1-15); the Lambda consumer's value."
  default     = 15

  validation {
    condition     = var.alert_staleness_minutes >= 1 && var.alert_staleness_minutes <= 15
    error_message = "alert_staleness_minutes must be 1-15 (Settings.alert_staleness_minutes)."
  }
}

variable "pseudonym_key" {
  type        = string
  description = "GS_PSEUDONYM_KEY, stored in Secrets Manager and injected as an ECS secret."
  sensitive   = true
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key (tables, ECR, logs, secret; the stream, topic and queue the task uses)."
}

variable "alarm_topic_arn" {
  type        = string
  description = "SNS topic the alarms notify (the pipeline topic)."
}

variable "lag_alarm_ms" {
  type        = number
  description = "Alarm when the application's MillisBehindLatest exceeds this (ms) for 5 minutes."
  default     = 60000
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the container log group."
  default     = 365
}

variable "deletion_protection" {
  type        = bool
  description = "DynamoDB deletion protection of the KCL's three tables."
  default     = true
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy delete the ECR repository with images and the secret without a recovery window (dev and rehearsals)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource of the module."
  default     = {}
}
