# The dev environment: every stage of the pipeline, wired together. Names follow
# glucosestream/settings.py ResourceNames for GS_ENV=<env> (tests/terraform checks them).

locals {
  prefix = "gs-${var.env}"

  # ResourceNames(env).* — keep in step with glucosestream/settings.py.
  names = {
    readings_stream          = "${local.prefix}-readings"
    lake_bucket              = "${local.prefix}-lake"
    athena_results_bucket    = "${local.prefix}-athena-results"
    patient_state_table      = "${local.prefix}-patient-state"
    nightscout_table         = "${local.prefix}-nightscout"
    alerts_topic             = "${local.prefix}-alerts"
    pipeline_topic           = "${local.prefix}-pipeline"
    alerts_dlq               = "${local.prefix}-alerts-dlq"
    alerts_feed_queue        = "${local.prefix}-alerts-feed"
    dashboard_alerts_queue   = "${local.prefix}-dashboard-alerts"
    pipeline_feed_queue      = "${local.prefix}-pipeline-feed"
    firehose_delivery_stream = "${local.prefix}-raw-delivery"
    pipeline_function        = "${local.prefix}-pipeline"
    state_machine            = "${local.prefix}-pipeline"
    glue_database            = "gs_${replace(var.env, "-", "_")}_lake"
    athena_workgroup         = "${local.prefix}-workgroup"
    raw_readings_prefix      = "raw/readings/"
    errors_prefix            = "errors/readings/"
    curated_prefix           = "curated/"
    marts_prefix             = "marts/"
    alerts_function          = "${local.prefix}-alerts-consumer"
    # The alerts consumer as a KCL application (modules/alerts_kcl): its ECS service and lease
    # table, and the two tables the KCL names after it.
    alerts_kcl_application          = "${local.prefix}-alerts-kcl"
    alerts_kcl_coordinator_table    = "${local.prefix}-alerts-kcl-CoordinatorState"
    alerts_kcl_worker_metrics_table = "${local.prefix}-alerts-kcl-WorkerMetricStats"
    transform_function              = "${local.prefix}-firehose-transform" # ResourceNames.firehose_transform_function
    ingest_function                 = "${local.prefix}-ingest-api"
    grid_metrics_function           = "${local.prefix}-grid-metrics"
    privacy_ledger_table            = "${local.prefix}-privacy-ledger"
    # Treatments (insulin, carbohydrate): their own stream, delivery stream and raw zone.
    treatments_stream          = "${local.prefix}-treatments"
    treatments_delivery_stream = "${local.prefix}-treatments-delivery"
    raw_treatments_prefix      = "raw/treatments/"
    treatment_errors_prefix    = "errors/treatments/"
    # Erasures of readings (a Nightscout DELETE of entries): their own stream, delivery stream and
    # raw zone; the ELT leaves erased readings out of curated_readings.
    erasures_stream          = "${local.prefix}-erasures"
    erasures_delivery_stream = "${local.prefix}-erasures-delivery"
    raw_erasures_prefix      = "raw/erasures/"
    erasure_errors_prefix    = "errors/erasures/"
    # Not in ResourceNames: names only Terraform uses.
    ingest_api = "${local.prefix}-ingest"
    dashboard  = "${local.prefix}-dashboard"
  }

  tags = {
    Project     = "glucosestream"
    Environment = var.env
    ManagedBy   = "terraform"
  }

  code_zip = "${var.dist_dir}/code.zip"

  # Every stream keeps records this long: the window to replay Firehose (or the alerts consumer).
  stream_retention_hours = 24

  # Which consumer reads the readings stream for alerts: the Lambda behind its event-source
  # mapping, the KCL application on ECS, or both (they share the patient-state table).
  alerts_lambda_consumes = contains(["lambda", "both"], var.alerts_consumer)
  alerts_kcl_consumes    = contains(["kcl", "both"], var.alerts_consumer)

  # Readings arriving later than this after measurement never page: both consumers use it.
  alert_staleness_minutes = 15

  # What every function that loads glucosestream.settings needs in aws mode; the topic ARNs are
  # added by the modules that own or receive them.
  settings_environment = {
    GS_ENV           = var.env
    GS_MODE          = "aws"
    GS_REGION        = var.region
    GS_PSEUDONYM_KEY = var.pseudonym_key
  }
}

module "kms" {
  source      = "../../modules/kms"
  name_prefix = local.prefix
}

resource "aws_lambda_layer_version" "runtime" {
  layer_name               = "${local.prefix}-runtime"
  description              = "GlucoseStream Lambda dependencies (make build: dist/lambda/runtime-layer.zip)"
  filename                 = "${var.dist_dir}/runtime-layer.zip"
  source_code_hash         = filebase64sha256("${var.dist_dir}/runtime-layer.zip")
  compatible_runtimes      = ["python3.11"]
  compatible_architectures = ["x86_64"]
}

resource "aws_lambda_layer_version" "analytics" {
  layer_name               = "${local.prefix}-analytics"
  description              = "numpy + pyarrow for the grid-metrics function (make build: dist/lambda/analytics-layer.zip)"
  filename                 = "${var.dist_dir}/analytics-layer.zip"
  source_code_hash         = filebase64sha256("${var.dist_dir}/analytics-layer.zip")
  compatible_runtimes      = ["python3.11"]
  compatible_architectures = ["x86_64"]
}

module "stream" {
  source          = "../../modules/stream"
  stream_name     = local.names.readings_stream
  stream_mode     = var.stream_mode
  shard_count     = var.stream_shards
  kms_key_arn     = module.kms.key_arn
  retention_hours = local.stream_retention_hours
}

# Insulin and carbohydrate treatments (schemas/glucose_treatment.v1.avsc): a few per patient a
# day, so one provisioned shard; encrypted and retained as the readings stream.
module "treatments_stream" {
  source          = "../../modules/stream"
  stream_name     = local.names.treatments_stream
  stream_mode     = "PROVISIONED"
  shard_count     = 1
  kms_key_arn     = module.kms.key_arn
  retention_hours = local.stream_retention_hours
}

# Erasures of readings (schemas/glucose_reading_erasure.v1.avsc), put by the ingest API when a
# Nightscout client deletes entries: rare, so one provisioned shard; encrypted and retained as
# the readings stream.
module "erasures_stream" {
  source          = "../../modules/stream"
  stream_name     = local.names.erasures_stream
  stream_mode     = "PROVISIONED"
  shard_count     = 1
  kms_key_arn     = module.kms.key_arn
  retention_hours = local.stream_retention_hours
}

module "alerting" {
  source                      = "../../modules/alerting"
  function_name               = local.names.alerts_function
  state_table_name            = local.names.patient_state_table
  alerts_topic_name           = local.names.alerts_topic
  pipeline_topic_name         = local.names.pipeline_topic
  dlq_name                    = local.names.alerts_dlq
  alerts_feed_queue_name      = local.names.alerts_feed_queue
  dashboard_alerts_queue_name = local.names.dashboard_alerts_queue
  pipeline_feed_queue_name    = local.names.pipeline_feed_queue
  alert_email_addresses       = var.alert_email_addresses
  stream_arn                  = module.stream.stream_arn
  kms_key_arn                 = module.kms.key_arn
  settings_environment        = local.settings_environment
  alert_staleness_minutes     = local.alert_staleness_minutes
  mapping_enabled             = local.alerts_lambda_consumes
  lambda_code_zip             = local.code_zip
  lambda_layer_arns           = [aws_lambda_layer_version.runtime.arn]
  log_retention_days          = var.log_retention_days
  deletion_protection         = var.deletion_protection
}

# The same consumer as a KCL application on ECS Fargate, instead of or beside the Lambda
# (alerts_consumer); its network is alerts_kcl.
module "alerts_kcl" {
  source = "../../modules/alerts_kcl"
  count  = local.alerts_kcl_consumes ? 1 : 0

  name                      = local.names.alerts_kcl_application
  coordinator_table_name    = local.names.alerts_kcl_coordinator_table
  worker_metrics_table_name = local.names.alerts_kcl_worker_metrics_table
  env                       = var.env
  image                     = try(var.alerts_kcl.image, null)
  image_tag                 = try(var.alerts_kcl.image_tag, "latest")
  desired_count             = try(var.alerts_kcl.desired_count, 1)
  vpc_id                    = try(var.alerts_kcl.vpc_id, null)
  subnet_ids                = try(var.alerts_kcl.subnet_ids, null)
  assign_public_ip          = try(var.alerts_kcl.assign_public_ip, false)
  readings_stream_name      = local.names.readings_stream
  patient_state_table_name  = local.names.patient_state_table
  dlq_name                  = local.names.alerts_dlq
  alerts_topic_arn          = module.alerting.alerts_topic_arn
  pipeline_topic_arn        = module.alerting.pipeline_topic_arn
  alert_staleness_minutes   = local.alert_staleness_minutes
  pseudonym_key             = var.pseudonym_key
  kms_key_arn               = module.kms.key_arn
  alarm_topic_arn           = module.alerting.pipeline_topic_arn
  log_retention_days        = var.log_retention_days
  deletion_protection       = var.deletion_protection
  force_destroy             = var.force_destroy
}

module "lake" {
  source                     = "../../modules/lake"
  lake_bucket_name           = local.names.lake_bucket
  athena_results_bucket_name = local.names.athena_results_bucket
  raw_prefix                 = local.names.raw_readings_prefix
  errors_prefix              = local.names.errors_prefix
  curated_prefix             = local.names.curated_prefix
  marts_prefix               = local.names.marts_prefix
  glue_database_name         = local.names.glue_database
  athena_workgroup_name      = local.names.athena_workgroup
  delivery_stream_name       = local.names.firehose_delivery_stream
  transform_function_name    = local.names.transform_function
  stream_arn                 = module.stream.stream_arn
  kms_key_arn                = module.kms.key_arn
  ddl_dir                    = "${var.repo_root}/sql/ddl"
  raw_glue_schema_path       = "${var.repo_root}/schemas/glucose_reading.glue.json"
  lambda_code_zip            = local.code_zip
  lambda_layer_arns          = [aws_lambda_layer_version.runtime.arn]
  alarm_topic_arn            = module.alerting.pipeline_topic_arn
  log_retention_days         = var.log_retention_days
  force_destroy              = var.force_destroy

  # The treatments: their stream, delivery stream (same transform), raw zone and error prefix.
  treatments_stream_arn           = module.treatments_stream.stream_arn
  treatments_delivery_stream_name = local.names.treatments_delivery_stream
  raw_treatments_prefix           = local.names.raw_treatments_prefix
  treatment_errors_prefix         = local.names.treatment_errors_prefix
  treatments_glue_schema_path     = "${var.repo_root}/schemas/glucose_treatment.glue.json"

  # The erasures: their stream, delivery stream (same transform), raw zone and error prefix.
  erasures_stream_arn           = module.erasures_stream.stream_arn
  erasures_delivery_stream_name = local.names.erasures_delivery_stream
  raw_erasures_prefix           = local.names.raw_erasures_prefix
  erasure_errors_prefix         = local.names.erasure_errors_prefix
  erasures_glue_schema_path     = "${var.repo_root}/schemas/glucose_reading_erasure.glue.json"
}

module "elt" {
  source                     = "../../modules/elt"
  env                        = var.env
  function_name              = local.names.pipeline_function
  grid_metrics_function_name = local.names.grid_metrics_function
  state_machine_name         = local.names.state_machine
  definition_path            = "${var.repo_root}/sfn/pipeline.asl.json"
  schedule_expression        = var.pipeline_schedule
  pipeline_topic_arn         = module.alerting.pipeline_topic_arn
  alerts_topic_arn           = module.alerting.alerts_topic_arn
  glue_database              = module.lake.glue_database
  athena_workgroup           = module.lake.athena_workgroup
  lake_bucket                = local.names.lake_bucket # the name, known at plan time: the definition names it
  lake_bucket_arn            = module.lake.lake_bucket_arn
  athena_results_bucket      = module.lake.athena_results_bucket
  athena_results_bucket_arn  = module.lake.athena_results_bucket_arn
  raw_prefix                 = local.names.raw_readings_prefix
  raw_treatments_prefix      = local.names.raw_treatments_prefix
  raw_erasures_prefix        = local.names.raw_erasures_prefix
  curated_prefix             = local.names.curated_prefix
  marts_prefix               = local.names.marts_prefix
  kms_key_arn                = module.kms.key_arn
  settings_environment       = local.settings_environment
  lambda_code_zip            = local.code_zip
  lambda_layer_arns          = [aws_lambda_layer_version.runtime.arn]
  analytics_layer_arns       = [aws_lambda_layer_version.analytics.arn]
  log_retention_days         = var.log_retention_days
}

module "ingest" {
  source                    = "../../modules/ingest"
  api_name                  = local.names.ingest_api
  function_name             = local.names.ingest_function
  stream_arn                = module.stream.stream_arn
  treatments_stream_arn     = module.treatments_stream.stream_arn
  erasures_stream_arn       = module.erasures_stream.stream_arn
  patient_state_table_arn   = module.alerting.state_table_arn
  nightscout_table_name     = local.names.nightscout_table
  glue_database             = module.lake.glue_database
  athena_workgroup          = module.lake.athena_workgroup
  lake_bucket_arn           = module.lake.lake_bucket_arn
  athena_results_bucket_arn = module.lake.athena_results_bucket_arn
  curated_readings_prefix   = "${local.names.curated_prefix}readings/"
  deletion_protection       = var.deletion_protection
  alerts_topic_arn          = module.alerting.alerts_topic_arn
  pipeline_topic_arn        = module.alerting.pipeline_topic_arn
  alarm_topic_arn           = module.alerting.pipeline_topic_arn
  api_keys                  = var.ingest_api_keys
  nightscout                = var.ingest_nightscout
  kms_key_arn               = module.kms.key_arn
  settings_environment      = local.settings_environment
  lambda_code_zip           = local.code_zip
  lambda_layer_arns         = [aws_lambda_layer_version.runtime.arn]
  log_retention_days        = var.log_retention_days
}

module "dashboard" {
  source = "../../modules/dashboard"
  count  = var.dashboard == null ? 0 : 1

  name                      = local.names.dashboard
  env                       = var.env
  image_tag                 = var.dashboard.image_tag
  desired_count             = var.dashboard.desired_count
  vpc_id                    = var.dashboard.vpc_id
  public_subnet_ids         = var.dashboard.public_subnet_ids
  private_subnet_ids        = var.dashboard.private_subnet_ids
  allowed_cidrs             = var.dashboard.allowed_cidrs
  certificate_arn           = var.dashboard.certificate_arn
  domain_name               = var.dashboard.domain_name
  cognito_domain_prefix     = var.dashboard.cognito_domain_prefix
  glue_database             = module.lake.glue_database
  athena_workgroup          = module.lake.athena_workgroup
  lake_bucket_arn           = module.lake.lake_bucket_arn
  athena_results_bucket_arn = module.lake.athena_results_bucket_arn
  raw_prefix                = local.names.raw_readings_prefix
  curated_prefix            = local.names.curated_prefix
  marts_prefix              = local.names.marts_prefix
  alerts_topic_arn          = module.alerting.alerts_topic_arn
  pipeline_topic_arn        = module.alerting.pipeline_topic_arn
  readings_stream_name      = local.names.readings_stream
  alerts_queue_name         = local.names.dashboard_alerts_queue
  privacy_ledger_table_name = local.names.privacy_ledger_table
  patient_state_table_name  = local.names.patient_state_table
  pseudonym_key             = var.pseudonym_key
  kms_key_arn               = module.kms.key_arn
  log_retention_days        = var.log_retention_days
  deletion_protection       = var.deletion_protection
  force_destroy             = var.force_destroy
}
