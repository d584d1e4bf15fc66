output "names" {
  description = "Every resource name of the environment (compare: glucosestream settings)."
  value       = local.names
}

output "stream_name" {
  description = "Kinesis readings stream (producers: glucosestream simulate --publish with GS_MODE=aws)."
  value       = module.stream.stream_name
}

output "treatments_stream_name" {
  description = "Kinesis treatments stream (the ingest API puts insulin and carbohydrate treatments there)."
  value       = module.treatments_stream.stream_name
}

output "erasures_stream_name" {
  description = "Kinesis erasures stream (the ingest API puts erasures of readings there when a Nightscout client deletes entries)."
  value       = module.erasures_stream.stream_name
}

output "delivery_stream_names" {
  description = "Firehose delivery streams into the raw zone: readings (raw/readings/), treatments (raw/treatments/) and erasures (raw/erasures/)."
  value = {
    readings   = module.lake.delivery_stream_name
    treatments = module.lake.treatments_delivery_stream_name
    erasures   = module.lake.erasures_delivery_stream_name
  }
}

output "alerts_topic_arn" {
  description = "GS_ALERTS_TOPIC_ARN for clients running with GS_MODE=aws."
  value       = module.alerting.alerts_topic_arn
}

output "pipeline_topic_arn" {
  description = "GS_PIPELINE_TOPIC_ARN; every alarm notifies this topic too."
  value       = module.alerting.pipeline_topic_arn
}

output "feed_queue_urls" {
  description = "SQS queues subscribed to the alerts and pipeline topics (alerts, dashboard_alerts, pipeline)."
  value       = module.alerting.feed_queue_urls
}

output "dashboard_alerts_queue_url" {
  description = "The dashboard's own queue on the alerts topic (GS_ENV=<env>: settings.names.dashboard_alerts_queue)."
  value       = module.alerting.dashboard_alerts_queue_url
}

output "dashboard_alerts_queue_arn" {
  description = "ARN of the dashboard's queue on the alerts topic (the dashboard task role receives and deletes there)."
  value       = module.alerting.dashboard_alerts_queue_arn
}

output "alerts_dlq_url" {
  description = "On-failure queue of the alerts consumer."
  value       = module.alerting.dlq_url
}

output "alerts_consumer" {
  description = "The alerts consumers reading the readings stream: lambda (its event-source mapping enabled) and kcl (the ECS service), each true or false."
  value = {
    lambda = module.alerting.event_source_mapping_enabled
    kcl    = local.alerts_kcl_consumes
  }
}

output "alerts_kcl_service" {
  description = "ECS cluster and service of the KCL alerts consumer, when deployed (aws ecs describe-services --cluster ... --services ...)."
  value       = one([for kcl in module.alerts_kcl : { cluster = kcl.cluster_name, service = kcl.service_name }])
}

output "alerts_kcl_ecr_repository_url" {
  description = "Where to push the KCL alerts consumer image, when it is deployed."
  value       = one(module.alerts_kcl[*].ecr_repository_url)
}

output "alerts_kcl_tables" {
  description = "The KCL alerts consumer's DynamoDB tables (leases, coordinator_state, worker_metric_stats), when it is deployed."
  value       = one(module.alerts_kcl[*].table_names)
}

output "lake_bucket" {
  description = "Lake bucket (raw/, errors/, curated/, marts/)."
  value       = module.lake.lake_bucket
}

output "athena_workgroup" {
  description = "Athena workgroup for queries of the lake."
  value       = module.lake.athena_workgroup
}

output "glue_database" {
  description = "Glue database of the lake's tables."
  value       = module.lake.glue_database
}

output "state_machine_arn" {
  description = "Pipeline state machine (aws stepfunctions start-execution --state-machine-arn ...)."
  value       = module.elt.state_machine_arn
}

output "ingest_api_url" {
  description = "Base URL of the ingest API (x-api-key header)."
  value       = module.ingest.invoke_url
}

output "ingest_api_key_ids" {
  description = "API key ids of the ingest API (values: aws apigateway get-api-key --include-value)."
  value       = module.ingest.api_key_ids
}

output "dashboard_url" {
  description = "Dashboard URL, when the dashboard is deployed."
  value       = one(module.dashboard[*].url)
}

output "dashboard_ecr_repository_url" {
  description = "Where to push the dashboard image, when the dashboard is deployed."
  value       = one(module.dashboard[*].ecr_repository_url)
}

output "dashboard_alb_dns_name" {
  description = "The dashboard load balancer's DNS name: point the dashboard domain's CNAME (or alias) at it."
  value       = one(module.dashboard[*].alb_dns_name)
}

output "dashboard_user_pool_id" {
  description = "Cognito user pool of the dashboard (aws cognito-idp admin-create-user --user-pool-id ...)."
  value       = one(module.dashboard[*].user_pool_id)
}

output "privacy_ledger_table" {
  description = "DynamoDB table of the dashboard's per-user privacy budget ledger."
  value       = one(module.dashboard[*].privacy_ledger_table_name)
}
