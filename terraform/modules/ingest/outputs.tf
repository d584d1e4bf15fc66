output "invoke_url" {
  description = "Base URL of the ingest API stage (send the key in the x-api-key header)."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "api_key_ids" {
  description = "API key ids by name (values: aws apigateway get-api-key --api-key <id> --include-value)."
  value       = { for k, v in aws_api_gateway_api_key.this : k => v.id }
}

output "function_name" {
  description = "Name of the ingest Lambda."
  value       = module.ingest.function_name
}
