variable "api_name" {
  type        = string
  description = "Name of the REST API (gs-<env>-ingest)."
}

variable "function_name" {
  type        = string
  description = "Name of the ingest Lambda."
}

variable "stage_name" {
  type        = string
  description = "API stage: the first segment of the invoke URL (…/live/v1/readings, …/live/api/v1/entries for Nightscout clients). Not \"v1\": the routes carry their own version. A custom domain's base path mapping can hide it."
  default     = "live"
}

variable "api_keys" {
  type = list(object({
    id             = string
    tenant         = string
    value          = string
    patient_prefix = optional(string)
    patients       = optional(list(string), [])
  }))
  description = "One API key per uploader: API Gateway checks the value (usage plan), the handler maps its SHA-256 to the tenant and the source patients it may write (a patient_prefix or patients). Values >= 20 characters; never commit them."
  sensitive   = true

  validation {
    condition     = alltrue([for key in var.api_keys : length(key.value) >= 20 && (key.patient_prefix != null || length(key.patients) > 0)])
    error_message = "Each key needs a value of >= 20 characters and a patient_prefix or patients."
  }
}

variable "nightscout" {
  type = object({
    secret  = string
    patient = string
    tenant  = string
  })
  description = "Nightscout-compatible uploads (/api/v1/...): the API_SECRET (>= 12 characters) and the one source patient and tenant it writes; null: the Nightscout routes are not exposed."
  default     = null
  sensitive   = true
}

variable "throttle_rate_limit" {
  type        = number
  description = "Steady requests per second per key (usage plan) and per method (stage)."
  default     = 50
}

variable "throttle_burst_limit" {
  type        = number
  description = "Burst of requests per key."
  default     = 100
}

variable "daily_request_quota" {
  type        = number
  description = "Requests per key and day (a 5-minute CGM uploading one reading a request makes 288)."
  default     = 100000
}

variable "manage_account_logging_role" {
  type        = bool
  description = "Set the account's API Gateway CloudWatch logging role (one per account and region: turn off if another stack manages it)."
  default     = true
}

variable "stream_arn" {
  type        = string
  description = "ARN of the readings stream."
}

variable "treatments_stream_arn" {
  type        = string
  description = "ARN of the treatments stream (PutRecords only); encrypted with kms_key_arn like the readings stream."
}

variable "erasures_stream_arn" {
  type        = string
  description = "ARN of the erasures stream (PutRecords only: erasures of readings on a Nightscout DELETE of entries); encrypted with kms_key_arn like the readings stream."
}

variable "patient_state_table_arn" {
  type        = string
  description = "ARN of the alerts' patient-state table: alert settings and acknowledgements are written to the patient's item. Its name must be ResourceNames(env).patient_state_table (the handler derives it from GS_ENV)."
}

variable "nightscout_table_name" {
  type        = string
  description = "The Nightscout read path's table (recent entries, treatments, device status per patient): ResourceNames(env).nightscout_table, the name the handler derives from GS_ENV."
}

variable "nightscout_retention_days" {
  type        = number
  default     = 14
  description = "Days entries and device status stay in the Nightscout table (GS_INGEST_RECENT_DAYS; a TTL from each document's date). Treatments never expire."
}

variable "deletion_protection" {
  type        = bool
  default     = true
  description = "Protect the Nightscout table from deletion (false for throwaway environments)."
}

variable "alerts_topic_arn" {
  type        = string
  description = "Alerts topic ARN (GS_ALERTS_TOPIC_ARN; settings resolve both topics)."
}

variable "pipeline_topic_arn" {
  type        = string
  description = "Pipeline topic ARN (GS_PIPELINE_TOPIC_ARN); the module's alarm notifies it too."
}

variable "alarm_topic_arn" {
  type        = string
  description = "SNS topic of the module's alarms."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key (stream, logs, Lambda environment)."
}

variable "settings_environment" {
  type        = map(string)
  description = "GS_* variables every function loading glucosestream.settings needs (GS_ENV, GS_MODE, GS_REGION, GS_PSEUDONYM_KEY)."
  sensitive   = true
}

variable "lambda_code_zip" {
  type        = string
  description = "Path of dist/lambda/code.zip (make build)."
}

variable "lambda_layer_arns" {
  type        = list(string)
  description = "Layers of the function (the runtime dependencies layer)."
}

variable "lambda_runtime" {
  type        = string
  description = "Lambda runtime (the layer is built for it)."
  default     = "python3.11"
}

variable "log_level" {
  type        = string
  description = "Powertools log level."
  default     = "INFO"
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the module's log groups."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource of the module."
  default     = {}
}

variable "glue_database" {
  type        = string
  description = "The lake's Glue database: older Nightscout entries are read from its curated_readings table through Athena."
}

variable "athena_workgroup" {
  type        = string
  description = "The Athena workgroup the older-entries query runs in (ResourceNames(env).athena_workgroup, the name the handler derives from GS_ENV)."
}

variable "lake_bucket_arn" {
  type        = string
  description = "ARN of the lake bucket (read: the curated readings only)."
}

variable "athena_results_bucket_arn" {
  type        = string
  description = "ARN of the Athena results bucket (Athena writes the query's results with the function's credentials)."
}

variable "curated_readings_prefix" {
  type        = string
  description = "Key prefix of the curated readings table in the lake bucket (curated/readings/)."
  default     = "curated/readings/"
}
