variable "env" {
  type        = string
  description = "Deployment environment (Settings.env); offered to the ASL as $${env}."
}

variable "function_name" {
  type        = string
  description = "Pipeline Lambda (ResourceNames.pipeline_function)."
}

variable "grid_metrics_function_name" {
  type        = string
  description = "Grid-metrics Lambda (ResourceNames.grid_metrics_function), called by the pipeline's Distributed Map."
}

variable "grid_metrics_memory_mb" {
  type        = number
  description = "Memory of the grid-metrics Lambda (its CPU share grows with it; see docs/adr/0003-grid-metrics-on-aws.md)."
  default     = 2048
}

variable "grid_work_prefix" {
  type        = string
  description = "Prefix of the grid-metrics runs in the lake: <prefix><run>/input/ (staging chunks) and <prefix><run>/output/."
  default     = "work/grid/"
}

variable "analytics_layer_arns" {
  type        = list(string)
  description = "Layers of the grid-metrics function on top of lambda_layer_arns (numpy + pyarrow: dist/lambda/analytics-layer.zip)."
}

variable "state_machine_name" {
  type        = string
  description = "State machine (ResourceNames.state_machine); also the schedule's name."
}

variable "definition_path" {
  type        = string
  description = "Path of sfn/pipeline.asl.json, rendered with templatefile."
}

variable "schedule_expression" {
  type        = string
  description = "EventBridge Scheduler expression of the pipeline runs, e.g. rate(1 hour) or cron(15 * * * ? *)."
  default     = "rate(1 hour)"
}

variable "schedule_enabled" {
  type        = bool
  description = "Whether the schedule starts runs (disable to run the pipeline by hand only)."
  default     = true
}

variable "pipeline_topic_arn" {
  type        = string
  description = "SNS topic of pipeline notices (quality gate, failures) and alarms."
}

variable "alerts_topic_arn" {
  type        = string
  description = "SNS alerts topic ARN (GS_ALERTS_TOPIC_ARN: settings resolve both topics)."
}

variable "glue_database" {
  type        = string
  description = "Glue/Athena database of the lake."
}

variable "athena_workgroup" {
  type        = string
  description = "Athena workgroup the ELT queries run in."
}

variable "lake_bucket" {
  type        = string
  description = "Lake bucket name."
}

variable "lake_bucket_arn" {
  type        = string
  description = "Lake bucket ARN."
}

variable "athena_results_bucket" {
  type        = string
  description = "Athena results bucket name."
}

variable "athena_results_bucket_arn" {
  type        = string
  description = "Athena results bucket ARN."
}

variable "raw_prefix" {
  type        = string
  description = "Raw zone prefix (read only for the ELT)."
  default     = "raw/readings/"
}

variable "raw_treatments_prefix" {
  type        = string
  description = "Raw zone prefix of the treatments (read only for the ELT)."
  default     = "raw/treatments/"
}

variable "raw_erasures_prefix" {
  type        = string
  description = "Raw zone prefix of the erasures of readings (read only for the ELT)."
  default     = "raw/erasures/"
}

variable "curated_prefix" {
  type        = string
  description = "Curated prefix (written by the ELT)."
  default     = "curated/"
}

variable "marts_prefix" {
  type        = string
  description = "Marts prefix (written by the ELT)."
  default     = "marts/"
}

variable "pipeline_state_prefix" {
  type        = string
  description = "Prefix of the ELT's manifest of processed raw files (glucosestream.elt.plan)."
  default     = "pipeline_state/"
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key (lake, topics, logs, Lambda environment)."
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
