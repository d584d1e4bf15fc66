output "url" {
  description = "Dashboard URL (after a DNS alias from domain_name to alb_dns_name)."
  value       = "https://${var.domain_name}/"
}

output "alb_dns_name" {
  description = "DNS name of the ALB (target of the domain_name alias)."
  value       = aws_lb.this.dns_name
}

output "ecr_repository_url" {
  description = "Push the dashboard image here (docker build -f terraform/modules/dashboard/Dockerfile .)."
  value       = aws_ecr_repository.this.repository_url
}

output "user_pool_id" {
  description = "Cognito user pool of the dashboard's users (invite them: aws cognito-idp admin-create-user)."
  value       = aws_cognito_user_pool.this.id
}

output "cluster_name" {
  description = "ECS cluster name."
  value       = aws_ecs_cluster.this.name
}

output "privacy_ledger_table_name" {
  description = "DynamoDB table of the privacy budget ledger."
  value       = aws_dynamodb_table.privacy_ledger.name
}
