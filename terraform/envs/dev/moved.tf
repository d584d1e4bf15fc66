# State moves of the lambda_function refactor. Each Lambda's role, role policy, log group and
# function were resources of its module (module.lake.aws_lambda_function.transform, ...) and are
# now the resources of a lambda_function module call inside it
# (module.lake.module.transform.aws_lambda_function.this, ...). These blocks let `terraform plan`
# move state that predates the refactor instead of destroying and re-creating the functions (and
# their log groups). They are the history of this environment's state: once every state of it has
# been applied with them, they may be deleted. An environment created after the refactor needs
# none.

moved {
  from = module.lake.aws_iam_role.transform
  to   = module.lake.module.transform.aws_iam_role.this
}

moved {
  from = module.lake.aws_iam_role_policy.transform
  to   = module.lake.module.transform.aws_iam_role_policy.this
}

moved {
  from = module.lake.aws_cloudwatch_log_group.transform
  to   = module.lake.module.transform.aws_cloudwatch_log_group.this
}

moved {
  from = module.lake.aws_lambda_function.transform
  to   = module.lake.module.transform.aws_lambda_function.this
}

moved {
  from = module.alerting.aws_iam_role.consumer
  to   = module.alerting.module.consumer.aws_iam_role.this
}

moved {
  from = module.alerting.aws_iam_role_policy.consumer
  to   = module.alerting.module.consumer.aws_iam_role_policy.this
}

moved {
  from = module.alerting.aws_cloudwatch_log_group.consumer
  to   = module.alerting.module.consumer.aws_cloudwatch_log_group.this
}

moved {
  from = module.alerting.aws_lambda_function.consumer
  to   = module.alerting.module.consumer.aws_lambda_function.this
}

moved {
  from = module.elt.aws_iam_role.pipeline
  to   = module.elt.module.pipeline.aws_iam_role.this
}

moved {
  from = module.elt.aws_iam_role_policy.pipeline
  to   = module.elt.module.pipeline.aws_iam_role_policy.this
}

moved {
  from = module.elt.aws_cloudwatch_log_group.pipeline
  to   = module.elt.module.pipeline.aws_cloudwatch_log_group.this
}

moved {
  from = module.elt.aws_lambda_function.pipeline
  to   = module.elt.module.pipeline.aws_lambda_function.this
}

moved {
  from = module.ingest.aws_iam_role.ingest
  to   = module.ingest.module.ingest.aws_iam_role.this
}

moved {
  from = module.ingest.aws_iam_role_policy.ingest
  to   = module.ingest.module.ingest.aws_iam_role_policy.this
}

moved {
  from = module.ingest.aws_cloudwatch_log_group.ingest
  to   = module.ingest.module.ingest.aws_cloudwatch_log_group.this
}

moved {
  from = module.ingest.aws_lambda_function.ingest
  to   = module.ingest.module.ingest.aws_lambda_function.this
}

# State moves of the treatments (and erasures) delivery streams. The lake module's delivery
# stream and what belongs to it (log group and stream, role and role policy, two alarms) were
# single resources; they are now one instance per dataset (for_each over local.deliveries in
# modules/lake/firehose.tf). The readings' instances keep the objects they were, so a plan of an
# existing state moves these seven and only creates the other datasets' instances (treatments,
# erasures). Like the blocks above, they may be deleted once every state of this environment has
# been applied with them.

moved {
  from = module.lake.aws_kinesis_firehose_delivery_stream.this
  to   = module.lake.aws_kinesis_firehose_delivery_stream.this["readings"]
}

moved {
  from = module.lake.aws_iam_role.firehose
  to   = module.lake.aws_iam_role.firehose["readings"]
}

moved {
  from = module.lake.aws_iam_role_policy.firehose
  to   = module.lake.aws_iam_role_policy.firehose["readings"]
}

moved {
  from = module.lake.aws_cloudwatch_log_group.firehose
  to   = module.lake.aws_cloudwatch_log_group.firehose["readings"]
}

moved {
  from = module.lake.aws_cloudwatch_log_stream.firehose
  to   = module.lake.aws_cloudwatch_log_stream.firehose["readings"]
}

moved {
  from = module.lake.aws_cloudwatch_metric_alarm.firehose_delivery
  to   = module.lake.aws_cloudwatch_metric_alarm.firehose_delivery["readings"]
}

moved {
  from = module.lake.aws_cloudwatch_metric_alarm.firehose_conversion
  to   = module.lake.aws_cloudwatch_metric_alarm.firehose_conversion["readings"]
}
