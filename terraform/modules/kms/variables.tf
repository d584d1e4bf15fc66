variable "name_prefix" {
  type        = string
  description = "Resource name prefix, gs-<env> (ResourceNames.prefix); the key's alias is alias/<name_prefix>."
}

variable "deletion_window_in_days" {
  type        = number
  description = "Days a scheduled key deletion waits (7-30): data encrypted with the key is unreadable once it is gone."
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be 7-30."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags for every resource of the module."
  default     = {}
}
