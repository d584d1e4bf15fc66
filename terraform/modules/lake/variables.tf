variable "lake_bucket_name" {
  type        = string
  description = "Lake bucket (ResourceNames.lake_bucket): raw/, errors/, curated/, marts/."
}

variable "athena_results_bucket_name" {
  type        = string
  description = "Athena query results bucket (ResourceNames.athena_results_bucket)."
}

variable "raw_prefix" {
  type        = string
  description = "Raw zone prefix (ResourceNames.raw_readings_prefix), with a trailing slash."
  default     = "raw/readings/"
}

variable "errors_prefix" {
  type        = string
  description = "Prefix of records Firehose could not transform or convert (ResourceNames.errors_prefix)."
  default     = "errors/readings/"
}

variable "raw_treatments_prefix" {
  type        = string
  description = "Raw zone prefix of the treatments (ResourceNames.raw_treatments_prefix), with a trailing slash."
  default     = "raw/treatments/"
}

variable "treatment_errors_prefix" {
  type        = string
  description = "Prefix of treatment records Firehose could not transform or convert (ResourceNames.treatment_errors_prefix)."
  default     = "errors/treatments/"
}

variable "raw_erasures_prefix" {
  type        = string
  description = "Raw zone prefix of the erasures of readings (ResourceNames.raw_erasures_prefix), with a trailing slash."
  default     = "raw/erasures/"
}

variable "erasure_errors_prefix" {
  type        = string
  description = "Prefix of erasure records Firehose could not transform or convert (ResourceNames.erasure_errors_prefix)."
  default     = "errors/erasures/"
}

variable "curated_prefix" {
  type        = string
  description = "Curated tables prefix (ResourceNames.curated_prefix)."
  default     = "curated/"
}

variable "marts_prefix" {
  type        = string
  description = "Marts prefix (ResourceNames.marts_prefix)."
  default     = "marts/"
}

variable "glue_database_name" {
  type        = string
  description = "Glue/Athena database (ResourceNames.glue_database; no hyphens)."
}

variable "athena_workgroup_name" {
  type        = string
  description = "Athena workgroup (ResourceNames.athena_workgroup)."
}

variable "delivery_stream_name" {
  type        = string
  description = "Firehose delivery stream (ResourceNames.firehose_delivery_stream)."
}

variable "treatments_delivery_stream_name" {
  type        = string
  description = "Firehose delivery stream of the treatments (ResourceNames.treatments_delivery_stream); its name must end in -treatments-delivery (the transform picks the contract by it)."

  validation {
    condition     = endswith(var.treatments_delivery_stream_name, "-treatments-delivery")
    error_message = "treatments_delivery_stream_name must end in -treatments-delivery: the transform Lambda reads treatments from a delivery stream so named."
  }
}

variable "erasures_delivery_stream_name" {
  type        = string
  description = "Firehose delivery stream of the erasures of readings (ResourceNames.erasures_delivery_stream); its name must end in -erasures-delivery (the transform picks the contract by it)."

  validation {
    condition     = endswith(var.erasures_delivery_stream_name, "-erasures-delivery")
    error_message = "erasures_delivery_stream_name must end in -erasures-delivery: the transform Lambda reads erasures from a delivery stream so named."
  }
}

variable "transform_function_name" {
  type        = string
  description = "Name of the Firehose transform Lambda."
}

variable "stream_arn" {
  type        = string
  description = "ARN of the readings stream Firehose reads."
}

variable "treatments_stream_arn" {
  type        = string
  description = "ARN of the treatments stream the treatments delivery stream reads."
}

variable "erasures_stream_arn" {
  type        = string
  description = "ARN of the erasures stream the erasures delivery stream reads."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key for the buckets, the Athena results, logs and Lambda environment."
}

variable "ddl_dir" {
  type        = string
  description = "Directory of the table DDL files (sql/ddl/ of the repository); one table per file."
}

variable "raw_glue_schema_path" {
  type        = string
  description = "schemas/glucose_reading.glue.json: raw-table column comments generated from the Avro contract."
}

variable "treatments_glue_schema_path" {
  type        = string
  description = "schemas/glucose_treatment.glue.json: raw_treatments column comments generated from the Avro contract."
}

variable "erasures_glue_schema_path" {
  type        = string
  description = "schemas/glucose_reading_erasure.glue.json: raw_erasures column comments generated from the Avro contract."
}

variable "lambda_code_zip" {
  type        = string
  description = "Path of dist/lambda/code.zip (make build)."
}

variable "lambda_layer_arns" {
  type        = list(string)
  description = "Layers of the transform function (the runtime dependencies layer)."
}

variable "lambda_runtime" {
  type        = string
  description = "Lambda runtime of the functions (the layer is built for it)."
  default     = "python3.11"
}

variable "log_level" {
  type        = string
  description = "Powertools log level of the transform function."
  default     = "INFO"
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the module's CloudWatch log groups."
  default     = 365
}

variable "buffering_size_mib" {
  type        = number
  description = "Firehose S3 buffer size; format conversion and dynamic partitioning need at least 64 MiB."
  default     = 64

  validation {
    condition     = var.buffering_size_mib >= 64 && var.buffering_size_mib <= 128
    error_message = "buffering_size_mib must be 64-128 with Parquet conversion."
  }
}

variable "buffering_interval_seconds" {
  type        = number
  description = "Firehose buffer interval (0-900 s): how soon a partition's data becomes queryable."
  default     = 60
}

variable "transform_buffer_size_mib" {
  type        = number
  description = "Source data per transform invocation (Firehose Lambda processor BufferSizeInMBs, 0.2-3)."
  default     = 1
}

variable "transform_retries" {
  type        = number
  description = "Firehose retries of a failed transform invocation before the batch goes to the error prefix."
  default     = 3
}

variable "raw_infrequent_access_after_days" {
  type        = number
  description = "Days before raw Parquet moves to S3 Standard-IA."
  default     = 90
}

variable "errors_expire_after_days" {
  type        = number
  description = "Days error records are kept."
  default     = 90
}

variable "noncurrent_expire_after_days" {
  type        = number
  description = "Days noncurrent object versions are kept in the lake bucket."
  default     = 30
}

variable "athena_results_expire_after_days" {
  type        = number
  description = "Days Athena query results are kept."
  default     = 7
}

variable "bytes_scanned_cutoff_per_query" {
  type        = number
  description = "Athena cancels a query of the workgroup beyond this many bytes scanned (min 10 MB)."
  default     = 10737418240 # 10 GiB ≈ USD 0.05 a query

  validation {
    condition     = var.bytes_scanned_cutoff_per_query >= 10485760
    error_message = "Athena's minimum cutoff is 10 MB (10485760 bytes)."
  }
}

variable "alarm_topic_arn" {
  type        = string
  description = "SNS topic the module's alarms notify (the pipeline topic)."
}

variable "force_destroy" {
  type        = bool
  description = "Let terraform destroy delete non-empty buckets and workgroups (dev and rehearsals only)."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource of the module."
  default     = {}
}
