variable "function_name" {
  type        = string
  description = "Name of the alerts consumer Lambda."
}

variable "state_table_name" {
  type        = string
  description = "DynamoDB patient-state table (ResourceNames.patient_state_table)."
}

variable "alerts_topic_name" {
  type        = string
  description = "SNS topic of the alerts (ResourceNames.alerts_topic)."
}

variable "pipeline_topic_name" {
  type        = string
  description = "SNS topic of pipeline and operations notices (ResourceNames.pipeline_topic); alarms go here."
}

variable "dlq_name" {
  type        = string
  description = "On-failure SQS queue of the event-source mapping (ResourceNames.alerts_dlq)."
}

variable "alerts_feed_queue_name" {
  type        = string
  description = "SQS queue subscribed to the alerts topic (ResourceNames.alerts_feed_queue)."
}

variable "dashboard_alerts_queue_name" {
  type        = string
  description = "The dashboard's own SQS queue on the alerts topic, drained by its live view (ResourceNames.dashboard_alerts_queue)."
}

variable "pipeline_feed_queue_name" {
  type        = string
  description = "SQS queue subscribed to the pipeline topic (ResourceNames.pipeline_feed_queue)."
}

variable "alert_email_addresses" {
  type        = list(string)
  description = "Example e-mail subscribers of CRITICAL alerts (each confirms by mail). Empty: none."
  default     = []
}

variable "stream_arn" {
  type        = string
  description = "ARN of the readings stream the consumer reads."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key (stream, table, topics, queues, logs, Lambda environment)."
}

variable "settings_environment" {
  type        = map(string)
  description = "GS_* variables every function loading glucosestream.settings needs (GS_ENV, GS_MODE, GS_REGION, GS_PSEUDONYM_KEY)."
  sensitive   = true
}

variable "alert_staleness_minutes" {
  type        = number
  description = "GS_ALERT_STALENESS_MINUTES: readings arriving later than this after measurement never page (1-15)."
  default     = 15

  validation {
    condition     = var.alert_staleness_minutes >= 1 && var.alert_staleness_minutes <= 15
    error_message = "alert_staleness_minutes must be 1-15 (Settings.alert_staleness_minutes)."
  }
}

variable "mapping" {
  type = object({
    batch_size                     = number
    maximum_batching_window_s      = number
    report_batch_item_failures     = bool
    bisect_batch_on_function_error = bool
    maximum_retry_attempts         = number
    maximum_record_age_s           = number
    starting_position              = string
  })
  description = "Event-source mapping settings, named as glucosestream.local.esm.MappingConfig; the defaults are glucosestream/local/workers.py ALERTS_MAPPING."
  default = {
    batch_size                     = 1000
    maximum_batching_window_s      = 1
    report_batch_item_failures     = true
    bisect_batch_on_function_error = true
    maximum_retry_attempts         = 3
    maximum_record_age_s           = 21600
    starting_position              = "TRIM_HORIZON"
  }

  validation {
    condition     = var.mapping.maximum_retry_attempts >= 0 && var.mapping.maximum_record_age_s >= 60
    error_message = "Retries and record age must be bounded (a failing batch must not block its shard forever)."
  }
}

variable "mapping_enabled" {
  type        = bool
  description = "Whether the Lambda consumer's event-source mapping reads the stream (false when only the KCL consumer, modules/alerts_kcl, does)."
  default     = true
}

variable "iterator_age_alarm_ms" {
  type        = number
  description = "Alarm when the consumer's iterator age exceeds this (ms) for 5 minutes."
  default     = 60000
}

variable "deletion_protection" {
  type        = bool
  description = "DynamoDB deletion protection of the state table (turn off only for rehearsals)."
  default     = true
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
  description = "Retention of the function's log group."
  default     = 365
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource of the module."
  default     = {}
}
