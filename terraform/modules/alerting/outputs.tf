output "alerts_topic_arn" {
  description = "ARN of the alerts topic (known at plan time; users of it wait for the topic)."
  value       = local.topic_arns["alerts"]
  depends_on  = [aws_sns_topic.this]
}

output "pipeline_topic_arn" {
  description = "ARN of the pipeline topic, which pipeline notices and every alarm notify (known at plan time)."
  value       = local.topic_arns["pipeline"]
  depends_on  = [aws_sns_topic.this]
}

output "state_table_name" {
  description = "Name of the patient-state table."
  value       = aws_dynamodb_table.state.name
}

output "state_table_arn" {
  description = "ARN of the patient-state table (the ingest API and the dashboard write settings and acknowledgements to it)."
  value       = aws_dynamodb_table.state.arn
}

output "dlq_url" {
  description = "URL of the alerts consumer's on-failure queue."
  value       = aws_sqs_queue.dlq.id
}

output "feed_queue_urls" {
  description = "URLs of the queues subscribed to the topics (alerts, dashboard_alerts, pipeline)."
  value       = { for k, q in aws_sqs_queue.feed : k => q.id }
}

output "feed_queue_arns" {
  description = "ARNs of the queues subscribed to the topics (alerts, dashboard_alerts, pipeline)."
  value       = { for k, q in aws_sqs_queue.feed : k => q.arn }
}

output "dashboard_alerts_queue_url" {
  description = "URL of the dashboard's own queue on the alerts topic (its live view receives and deletes there)."
  value       = aws_sqs_queue.feed["dashboard_alerts"].id
}

output "dashboard_alerts_queue_arn" {
  description = "ARN of the dashboard's own queue on the alerts topic (the dashboard task role's grant)."
  value       = aws_sqs_queue.feed["dashboard_alerts"].arn
}

output "function_name" {
  description = "Name of the alerts consumer Lambda."
  value       = module.consumer.function_name
}

output "event_source_mapping_uuid" {
  description = "UUID of the Kinesis event-source mapping."
  value       = aws_lambda_event_source_mapping.consumer.uuid
}

output "event_source_mapping_enabled" {
  description = "Whether the Lambda consumer reads the stream (its event-source mapping is enabled)."
  value       = aws_lambda_event_source_mapping.consumer.enabled
}
