variable "env" {
  type        = string
  description = "Deployment environment (GS_ENV); every name is gs-<env>-<component> (glucosestream/settings.py ResourceNames)."
  default     = "dev"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,15}$", var.env))
    error_message = "env must match Settings.env: ^[a-z][a-z0-9-]{0,15}$."
  }
}

variable "region" {
  type        = string
  description = "AWS region (GS_REGION of every function)."
  default     = "us-east-1"
}

variable "pseudonym_key" {
  type        = string
  description = "GS_PSEUDONYM_KEY, the HMAC key of patient pseudonyms (>= 32 characters). Set TF_VAR_pseudonym_key; it is stored in the (encrypted) state."
  sensitive   = true

  validation {
    condition     = length(var.pseudonym_key) >= 32
    error_message = "pseudonym_key must be at least 32 characters (Settings.pseudonym_key)."
  }
}

variable "dist_dir" {
  type        = string
  description = "Directory of the Lambda artefacts of make build (code.zip, runtime-layer.zip), relative to this directory or absolute."
  default     = "../../../dist/lambda"
}

variable "repo_root" {
  type        = string
  description = "Repository root, relative to this directory or absolute: sfn/, sql/ddl/ and schemas/ are read from it."
  default     = "../../.."
}

variable "stream_mode" {
  type        = string
  description = "Kinesis capacity mode: ON_DEMAND or PROVISIONED."
  default     = "ON_DEMAND"
}

variable "stream_shards" {
  type        = number
  description = "Shards of the readings stream when stream_mode is PROVISIONED (Settings.stream_shards)."
  default     = 2
}

variable "pipeline_schedule" {
  type        = string
  description = "Schedule expression of the ELT pipeline."
  default     = "rate(1 hour)"
}

variable "alert_email_addresses" {
  type        = list(string)
  description = "Example e-mail subscribers of CRITICAL alerts."
  default     = []
}

variable "force_destroy" {
  type        = bool
  description = "Let destroy delete non-empty buckets, the Athena workgroup, the ECR repository."
  default     = false
}

variable "deletion_protection" {
  type        = bool
  description = "Deletion protection of the state table, the dashboard ALB and user pool."
  default     = true
}

variable "log_retention_days" {
  type        = number
  description = "Retention of every log group."
  default     = 365
}

variable "dashboard" {
  type = object({
    vpc_id                = string
    public_subnet_ids     = list(string)
    private_subnet_ids    = list(string)
    allowed_cidrs         = list(string)
    certificate_arn       = string
    domain_name           = string
    cognito_domain_prefix = string
    image_tag             = optional(string, "latest")
    desired_count         = optional(number, 1)
  })
  description = "Network, certificate and host name of the dashboard; null: no dashboard."
  default     = null
}

variable "alerts_consumer" {
  type        = string
  description = "Which alerts consumer reads the readings stream: \"lambda\" (the Lambda behind its event-source mapping), \"kcl\" (the KCL application on ECS Fargate; the mapping is disabled) or \"both\"."
  default     = "lambda"

  validation {
    condition     = contains(["lambda", "kcl", "both"], var.alerts_consumer)
    error_message = "alerts_consumer must be \"lambda\", \"kcl\" or \"both\"."
  }
}

variable "alerts_kcl" {
  type = object({
    vpc_id           = string
    subnet_ids       = list(string)
    assign_public_ip = optional(bool, false)
    image            = optional(string)
    image_tag        = optional(string, "latest")
    desired_count    = optional(number, 1)
  })
  description = "Network and image of the KCL alerts consumer (modules/alerts_kcl); required when alerts_consumer is \"kcl\" or \"both\". image: a full reference (null: the module's ECR repository at image_tag)."
  default     = null
}

variable "ingest_api_keys" {
  type = list(object({
    id             = string
    tenant         = string
    value          = string
    patient_prefix = optional(string)
    patients       = optional(list(string), [])
  }))
  description = "Ingest API keys (see modules/ingest): set TF_VAR_ingest_api_keys as JSON; empty: every ingest request is refused."
  default     = []
  sensitive   = true
}

variable "ingest_nightscout" {
  type = object({
    secret  = string
    patient = string
    tenant  = string
  })
  description = "Nightscout-compatible uploads (see modules/ingest); null: off."
  default     = null
  sensitive   = true
}
