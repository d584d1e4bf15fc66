variable "name" {
  type        = string
  description = "Function name; also names the role (<name>-lambda) and the log group (/aws/lambda/<name>)."
}

variable "description" {
  type        = string
  description = "Description of the function."
}

variable "role_description" {
  type        = string
  description = "Description of the execution role: what the function may do."
}

variable "policy_name" {
  type        = string
  description = "Name of the role's inline policy."
}

variable "policy_json" {
  type        = string
  description = "The function's least-privilege policy (an aws_iam_policy_document's json, kept in the calling module). Writing to its own log group and X-Ray tracing are added here."
}

variable "handler" {
  type        = string
  description = "Handler, module.path.function inside the code zip."
}

variable "runtime" {
  type        = string
  description = "Lambda runtime (the layer is built for it)."
  default     = "python3.11"
}

variable "code_zip" {
  type        = string
  description = "Path of dist/lambda/code.zip (make build); its SHA-256 becomes source_code_hash."
}

variable "layer_arns" {
  type        = list(string)
  description = "Layers of the function (the runtime dependencies layer)."
}

variable "memory_size" {
  type        = number
  description = "Memory of the function, MB."
}

variable "timeout" {
  type        = number
  description = "Timeout of one invocation, seconds."
}

variable "environment" {
  type        = map(string)
  description = "Environment variables (encrypted with kms_key_arn); sensitive values stay sensitive."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key: the environment and the log group."
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
