output "stream_name" {
  description = "Name of the stream."
  value       = aws_kinesis_stream.this.name
}

output "stream_arn" {
  description = "ARN of the stream (event-source mapping, Firehose source, producer policies)."
  value       = aws_kinesis_stream.this.arn
}
