variable "name" {
  type        = string
  description = "Name of the dashboard's resources (gs-<env>-dashboard): cluster, service, ALB, ECR repository, user pool."
}

variable "env" {
  type        = string
  description = "Deployment environment (GS_ENV of the container)."
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
  description = "Fargate task memory (MiB)."
  default     = 1024
}

variable "desired_count" {
  type        = number
  description = "Running dashboard tasks."
  default     = 1
}

variable "container_port" {
  type        = number
  description = "Port bokeh serve listens on in the container."
  default     = 5006
}

variable "vpc_id" {
  type        = string
  description = "VPC of the ALB and the tasks."
}

variable "public_subnet_ids" {
  type        = list(string)
  description = "Public subnets (two or more AZs) for the ALB."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets for the tasks (with a NAT gateway or VPC endpoints for Athena, S3, Kinesis, SQS, KMS, ECR, Logs, Secrets Manager)."
}

variable "allowed_cidrs" {
  type        = list(string)
  description = "Networks allowed to reach the ALB (e.g. the clinic's egress ranges). Everyone else is refused before Cognito."
}

variable "certificate_arn" {
  type        = string
  description = "ACM certificate for domain_name (HTTPS listener)."
}

variable "domain_name" {
  type        = string
  description = "Public host name of the dashboard (a DNS alias to the ALB); Cognito redirects to https://<domain_name>/oauth2/idpresponse."
}

variable "cognito_domain_prefix" {
  type        = string
  description = "Prefix of the Cognito hosted UI domain (<prefix>.auth.<region>.amazoncognito.com); globally unique."
}

variable "glue_database" {
  type        = string
  description = "Glue/Athena database the dashboard reads."
}

variable "athena_workgroup" {
  type        = string
  description = "Athena workgroup of the dashboard's queries."
}

variable "lake_bucket_arn" {
  type        = string
  description = "Lake bucket ARN (read only)."
}

variable "athena_results_bucket_arn" {
  type        = string
  description = "Athena results bucket ARN (Athena writes results with the caller's credentials)."
}

variable "raw_prefix" {
  type        = string
  description = "Raw zone prefix (live readings)."
  default     = "raw/readings/"
}

variable "curated_prefix" {
  type        = string
  description = "Curated prefix."
  default     = "curated/"
}

variable "marts_prefix" {
  type        = string
  description = "Marts prefix."
  default     = "marts/"
}

variable "alerts_topic_arn" {
  type        = string
  description = "Alerts topic ARN (GS_ALERTS_TOPIC_ARN)."
}

variable "pipeline_topic_arn" {
  type        = string
  description = "Pipeline topic ARN (GS_PIPELINE_TOPIC_ARN)."
}

variable "readings_stream_name" {
  type        = string
  description = "Readings stream the live view tails: ResourceNames(env).readings_stream, the name the container derives from GS_ENV."
}

variable "alerts_queue_name" {
  type        = string
  description = "The dashboard's own SQS queue on the alerts topic, which the live view drains: ResourceNames(env).dashboard_alerts_queue."
}

variable "patient_state_table_name" {
  type        = string
  description = "The alerts' patient-state table: the live view acknowledges alerts in the patient's item. ResourceNames(env).patient_state_table, the name the container derives from GS_ENV."
}

variable "privacy_ledger_table_name" {
  type        = string
  description = "DynamoDB table of the privacy budget ledger (ε per user per month): ResourceNames(env).privacy_ledger_table, the name the container derives from GS_ENV."
}

variable "privacy_budget_epsilon" {
  type        = number
  description = "Total ε one dashboard user may spend on privacy-mode releases per calendar month (GS_PRIVACY_BUDGET_EPSILON)."
  default     = 3
  validation {
    condition     = var.privacy_budget_epsilon > 0 && var.privacy_budget_epsilon <= 10
    error_message = "privacy_budget_epsilon must be in (0, 10]."
  }
}

variable "pseudonym_key" {
  type        = string
  description = "GS_PSEUDONYM_KEY, stored in Secrets Manager and injected as an ECS secret."
  sensitive   = true
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key (ECR, logs, secret, lake, readings stream, alerts queue)."
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the container log group."
  default     = 365
}

variable "deletion_protection" {
  type        = bool
  description = "Deletion protection of the ALB and the user pool."
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
