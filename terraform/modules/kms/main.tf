# One customer-managed key per environment encrypts every store and channel of the pipeline
# (Kinesis, S3, DynamoDB, SNS, SQS, Lambda environment variables, CloudWatch Logs). One key keeps
# the key policy auditable in one place; IAM policies of each role still name the key explicitly.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
}

data "aws_iam_policy_document" "key" {
  # Delegates to IAM: each role's own policy decides what it may do with the key.
  #checkov:skip=CKV_AWS_109:A key policy's Resource is always "*" (the key itself); the account root statement is AWS's default delegation to IAM.
  #checkov:skip=CKV_AWS_111:Same statement: write access is delegated to IAM policies, which name this key.
  #checkov:skip=CKV_AWS_356:In a key policy "*" means this key; AWS requires it.
  statement {
    sid = "AccountRootDelegatesToIam"
    # Listed rather than kms:* (the project allows no wildcard actions); administration stays
    # with the account, so the key can never become unmanageable.
    actions = [
      "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:CreateGrant", "kms:Decrypt", "kms:DeleteAlias",
      "kms:DescribeKey", "kms:DisableKey", "kms:DisableKeyRotation", "kms:EnableKey",
      "kms:EnableKeyRotation", "kms:Encrypt", "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
      "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations", "kms:ListResourceTags",
      "kms:PutKeyPolicy", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:RetireGrant",
      "kms:RevokeGrant", "kms:RotateKeyOnDemand", "kms:ScheduleKeyDeletion", "kms:TagResource",
      "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
    ]
    resources = ["*"] # required: a key policy statement can only name "*" (this key)
    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }

  # CloudWatch Logs encrypts log groups with the key only if the key policy names the service.
  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = ["*"] # required: a key policy statement can only name "*" (this key)
    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.name}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:*"]
    }
  }

  # CloudWatch alarms and EventBridge publish to the encrypted SNS topics; SNS delivers to the
  # encrypted SQS subscription queues. Each service needs the data key from the key policy.
  statement {
    sid       = "ServicesPublishingToEncryptedTopicsAndQueues"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"] # required: a key policy statement can only name "*" (this key)
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com", "sns.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name_prefix}: encrypts the CGM pipeline's streams, lake, state, topics, queues and logs"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.this.key_id
}
