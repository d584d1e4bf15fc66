variable "stream_name" {
  type        = string
  description = "Name of the stream (ResourceNames.readings_stream, gs-<env>-readings; ResourceNames.treatments_stream, gs-<env>-treatments; or ResourceNames.erasures_stream, gs-<env>-erasures)."
}

variable "stream_mode" {
  type        = string
  description = "ON_DEMAND (default: scales with the cohort, no shard planning) or PROVISIONED (cheaper at a steady, known rate; set shard_count)."
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "PROVISIONED"], var.stream_mode)
    error_message = "stream_mode must be ON_DEMAND or PROVISIONED."
  }
}

variable "shard_count" {
  type        = number
  description = "Shards when stream_mode is PROVISIONED (1 MB/s or 1,000 records/s in per shard); ignored on demand."
  default     = 2

  validation {
    condition     = var.shard_count >= 1
    error_message = "shard_count must be at least 1."
  }
}

variable "retention_hours" {
  type        = number
  description = "How long records stay readable (24-8760 h): the window to replay the alerts consumer or Firehose after an outage."
  default     = 24

  validation {
    condition     = var.retention_hours >= 24 && var.retention_hours <= 8760
    error_message = "retention_hours must be 24-8760."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of the customer-managed KMS key that encrypts the stream."
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource of the module."
  default     = {}
}
