output "service_name" {
  description = "ECS service of the KCL alerts consumer (the KCL application name)."
  value       = aws_ecs_service.this.name
}

output "cluster_name" {
  description = "ECS cluster of the KCL alerts consumer."
  value       = aws_ecs_cluster.this.name
}

output "ecr_repository_url" {
  description = "Push the KCL consumer image here (docker build -f terraform/modules/alerts_kcl/Dockerfile .)."
  value       = aws_ecr_repository.this.repository_url
}

output "table_names" {
  description = "The KCL's tables: leases (the application name), coordinator state, worker metric stats."
  value = {
    leases              = aws_dynamodb_table.leases.name
    coordinator_state   = aws_dynamodb_table.coordinator_state.name
    worker_metric_stats = aws_dynamodb_table.worker_metric_stats.name
  }
}

output "task_role_arn" {
  description = "The task role (what the daemon and its record processors may call)."
  value       = aws_iam_role.task.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the daemon and its record processors."
  value       = aws_cloudwatch_log_group.this.name
}
