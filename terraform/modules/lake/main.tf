# The lake: S3 buckets (lake, Athena results), the Glue catalog (raw with partition projection;
# curated and marts with the partitions the pipeline registers), the Athena workgroup, and
# Firehose delivering the readings, treatments and erasures streams into the raw zone as Parquet
# through the transform Lambda (consumers/firehose_transform/handler.py).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  buckets = {
    lake           = var.lake_bucket_name
    athena_results = var.athena_results_bucket_name
  }
}

# ------------------------------------------------------------------------------------------
# Buckets: SSE-KMS, public access blocked, versioning, TLS only, lifecycle
# ------------------------------------------------------------------------------------------

# Each per-bucket resource iterates local.buckets (the keys of aws_s3_bucket.this) and names its
# bucket aws_s3_bucket.this[each.key]: so checkov links every instance to its bucket (with
# for_each = aws_s3_bucket.this it misses some keys and reports the bucket unprotected).

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:Server access logs need a log bucket per account (usually a central one); enable them there and set logging from the platform team's account baseline.
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost; the raw zone is re-creatable from the stream only within its retention, so replicate in production if RPO demands it.
  #checkov:skip=CKV2_AWS_61:Both buckets have lifecycle rules (aws_s3_bucket_lifecycle_configuration.lake and .athena_results below); checkov does not follow the for_each keys they reference.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications: Athena reads by partition projection and the pipeline runs on a schedule.
  for_each      = local.buckets
  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = local.buckets
  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true # one KMS call per object batch instead of per object: cost
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this
  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    # A deny grants nothing: it refuses every S3 action over plain HTTP (AWS's TLS-only pattern).
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"] # a deny for every caller: whoever asks over plain HTTP
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  policy   = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "lake" {
  bucket = aws_s3_bucket.this["lake"].id

  # The raw zone is never rewritten; after the marts are built it is read rarely (backfills).
  rule {
    id     = "raw-to-infrequent-access"
    status = "Enabled"
    filter {
      prefix = var.raw_prefix
    }
    transition {
      days          = var.raw_infrequent_access_after_days
      storage_class = "STANDARD_IA"
    }
  }

  # Undecodable records are kept long enough to be investigated and replayed.
  rule {
    id     = "expire-error-records"
    status = "Enabled"
    filter {
      prefix = var.errors_prefix
    }
    expiration {
      days = var.errors_expire_after_days
    }
  }

  # The treatments' raw zone and error records: as the readings'.
  rule {
    id     = "raw-treatments-to-infrequent-access"
    status = "Enabled"
    filter {
      prefix = var.raw_treatments_prefix
    }
    transition {
      days          = var.raw_infrequent_access_after_days
      storage_class = "STANDARD_IA"
    }
  }

  rule {
    id     = "expire-treatment-error-records"
    status = "Enabled"
    filter {
      prefix = var.treatment_errors_prefix
    }
    expiration {
      days = var.errors_expire_after_days
    }
  }

  # The erasures' raw zone and error records: as the readings'.
  rule {
    id     = "raw-erasures-to-infrequent-access"
    status = "Enabled"
    filter {
      prefix = var.raw_erasures_prefix
    }
    transition {
      days          = var.raw_infrequent_access_after_days
      storage_class = "STANDARD_IA"
    }
  }

  rule {
    id     = "expire-erasure-error-records"
    status = "Enabled"
    filter {
      prefix = var.erasure_errors_prefix
    }
    expiration {
      days = var.errors_expire_after_days
    }
  }

  # The grid metrics' work of a run (staged chunks, outputs): the run deletes it after its period
  # marts; a run that died leaves it, and nothing reads it a day later.
  rule {
    id     = "expire-grid-work"
    status = "Enabled"
    filter {
      prefix = "work/"
    }
    expiration {
      days = 2
    }
  }

  # The ELT swaps rebuilt partitions in; old versions are only a safety net.
  rule {
    id     = "expire-noncurrent-and-incomplete"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_expire_after_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "athena_results" {
  bucket = aws_s3_bucket.this["athena_results"].id

  # Query results are re-creatable by re-running the query.
  rule {
    id     = "expire-query-results"
    status = "Enabled"
    filter {}
    expiration {
      days = var.athena_results_expire_after_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

# ------------------------------------------------------------------------------------------
# Glue catalog: the tables of sql/ddl/ (one file per table), parsed here so there is one copy
# of every column list; LOCATION comes from the settings' prefixes, as the DDL files say.
# ------------------------------------------------------------------------------------------

locals {
  ddl_text = { for f in fileset(var.ddl_dir, "*.sql") : trimsuffix(f, ".sql") => file("${var.ddl_dir}/${f}") }

  ddl = {
    for name, text in local.ddl_text : name => {
      columns = [
        for m in regexall("(?m)^\\s+([a-z_][a-z0-9_]*)\\s+([A-Z]+),?\\s*$", regex("(?s)\\.${name}\\s*\\((.*?)\\n\\)\\s*\\nPARTITIONED BY", text)[0]) :
        { name = m[0], type = lower(m[1]) }
      ]
      partition_keys = [
        for m in regexall("([a-z_][a-z0-9_]*)\\s+([A-Z]+)", regex("PARTITIONED BY \\(([^)]*)\\)", text)[0]) :
        { name = m[0], type = lower(m[1]) }
      ]
      # Raw has partition projection; curated and marts have none (their partitions are
      # registered by the pipeline at versioned prefixes: docs/adr/0004-atomic-publish.md).
      properties = {
        for m in regexall("'([^']+)'\\s*=\\s*'([^']*)'", try(regex("(?s)TBLPROPERTIES\\s*\\((.*)\\)", text)[0], "")) : m[0] => m[1]
      }
    }
  }

  # The raw tables Firehose writes, at the prefixes of its delivery streams (firehose.tf).
  raw_prefixes = {
    raw_readings   = var.raw_prefix
    raw_treatments = var.raw_treatments_prefix
    raw_erasures   = var.raw_erasures_prefix
  }

  # raw_<x> → raw/<x>/ (or its delivery stream's prefix), curated_<t> → curated/<t>/, every
  # other table is a mart.
  table_locations = {
    for name in keys(local.ddl) : name => (
      startswith(name, "raw_") ? "s3://${var.lake_bucket_name}/${lookup(local.raw_prefixes, name, "raw/${trimprefix(name, "raw_")}/")}" :
      startswith(name, "curated_") ? "s3://${var.lake_bucket_name}/${var.curated_prefix}${trimprefix(name, "curated_")}/" :
      "s3://${var.lake_bucket_name}/${var.marts_prefix}${name}/"
    )
  }

  # Column comments of the raw tables come from the schemas generated from the Avro contracts.
  raw_glue_schemas = {
    raw_readings   = var.raw_glue_schema_path
    raw_treatments = var.treatments_glue_schema_path
    raw_erasures   = var.erasures_glue_schema_path
  }
  raw_comments = {
    for table, path in local.raw_glue_schemas : table => {
      for c in jsondecode(file(path)).columns : c.Name => lookup(c, "Comment", null)
    }
  }
}

resource "aws_glue_catalog_database" "this" {
  name        = var.glue_database_name
  description = "GlucoseStream lake (${var.glue_database_name}): raw readings, curated readings, metrics marts."
}

resource "aws_glue_catalog_table" "this" {
  for_each      = local.ddl
  database_name = aws_glue_catalog_database.this.name
  name          = each.key
  table_type    = "EXTERNAL_TABLE"
  description   = "From sql/ddl/${each.key}.sql"

  parameters = merge(each.value.properties, {
    EXTERNAL       = "TRUE"
    classification = "parquet"
  })

  dynamic "partition_keys" {
    for_each = each.value.partition_keys
    content {
      name = partition_keys.value.name
      type = partition_keys.value.type
    }
  }

  storage_descriptor {
    location      = local.table_locations[each.key]
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"

    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
      parameters            = { "serialization.format" = "1" }
    }

    dynamic "columns" {
      for_each = each.value.columns
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = try(local.raw_comments[each.key][columns.value.name], null)
      }
    }
  }
}

# ------------------------------------------------------------------------------------------
# Athena workgroup: enforced settings, encrypted results, a bytes-scanned cutoff
# ------------------------------------------------------------------------------------------

resource "aws_athena_workgroup" "this" {
  name          = var.athena_workgroup_name
  description   = "GlucoseStream ELT and dashboard queries"
  force_destroy = var.force_destroy

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location = "s3://${var.athena_results_bucket_name}/" # by name: known at plan time
      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }

  tags       = var.tags
  depends_on = [aws_s3_bucket.this]
}
