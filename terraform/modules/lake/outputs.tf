output "lake_bucket" {
  description = "Name of the lake bucket."
  value       = aws_s3_bucket.this["lake"].id
}

output "lake_bucket_arn" {
  description = "ARN of the lake bucket."
  value       = aws_s3_bucket.this["lake"].arn
}

output "athena_results_bucket" {
  description = "Name of the Athena results bucket."
  value       = aws_s3_bucket.this["athena_results"].id
}

output "athena_results_bucket_arn" {
  description = "ARN of the Athena results bucket."
  value       = aws_s3_bucket.this["athena_results"].arn
}

output "athena_results_location" {
  description = "s3:// URL where the workgroup writes query results."
  value       = "s3://${aws_s3_bucket.this["athena_results"].id}/"
}

output "glue_database" {
  description = "Glue/Athena database name."
  value       = aws_glue_catalog_database.this.name
}

output "glue_tables" {
  description = "Glue table names (one per sql/ddl file)."
  value       = sort([for t in aws_glue_catalog_table.this : t.name])
}

output "athena_workgroup" {
  description = "Athena workgroup name."
  value       = aws_athena_workgroup.this.name
}

output "athena_workgroup_arn" {
  description = "Athena workgroup ARN."
  value       = aws_athena_workgroup.this.arn
}

output "delivery_stream_name" {
  description = "Firehose delivery stream name of the readings."
  value       = aws_kinesis_firehose_delivery_stream.this["readings"].name
}

output "treatments_delivery_stream_name" {
  description = "Firehose delivery stream name of the treatments."
  value       = aws_kinesis_firehose_delivery_stream.this["treatments"].name
}

output "erasures_delivery_stream_name" {
  description = "Firehose delivery stream name of the erasures of readings."
  value       = aws_kinesis_firehose_delivery_stream.this["erasures"].name
}

output "transform_function_name" {
  description = "Firehose transform Lambda name."
  value       = module.transform.function_name
}
