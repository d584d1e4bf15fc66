output "state_machine_arn" {
  description = "ARN of the pipeline state machine."
  value       = aws_sfn_state_machine.this.arn
}

output "state_machine_name" {
  description = "Name of the pipeline state machine."
  value       = aws_sfn_state_machine.this.name
}

output "function_name" {
  description = "Name of the pipeline Lambda."
  value       = module.pipeline.function_name
}

output "schedule_name" {
  description = "Name of the EventBridge Scheduler schedule."
  value       = aws_scheduler_schedule.this.name
}

output "grid_metrics_function_name" {
  description = "Name of the grid-metrics Lambda."
  value       = module.grid_metrics.function_name
}
