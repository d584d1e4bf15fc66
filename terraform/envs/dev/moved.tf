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
