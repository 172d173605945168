# The pipeline's role, assumed by its Kubernetes service account through the EKS OIDC
# provider (IRSA). Least privilege: list, read and write objects under the bucket's landing/
# and lake/ prefixes only, read the warehouse password secret only, and use the project's key
# only through S3 and Secrets Manager.

locals {
  oidc_issuer      = replace(var.eks_oidc_provider_arn, "/^arn:[^:]+:iam::[0-9]+:oidc-provider\\//", "")
  bucket_prefixes  = ["landing", "lake"]
  service_account  = "system:serviceaccount:${var.k8s_namespace}:${var.k8s_service_account}"
  kms_via_services = ["s3.${var.aws_region}.amazonaws.com", "secretsmanager.${var.aws_region}.amazonaws.com"]
}

data "aws_iam_policy_document" "pipeline_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.eks_oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = [local.service_account]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "pipeline" {
  name                 = "${local.name}-pipeline"
  description          = "ShopFlow pipeline pods (IRSA): its bucket prefixes and its secret only"
  assume_role_policy   = data.aws_iam_policy_document.pipeline_assume.json
  max_session_duration = 3600
}

data "aws_iam_policy_document" "pipeline" {
  statement {
    sid       = "ListOwnPrefixes"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.lake.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = flatten([for prefix in local.bucket_prefixes : [prefix, "${prefix}/*"]])
    }
  }

  statement {
    sid     = "ReadWriteOwnPrefixes"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [
      for prefix in local.bucket_prefixes : "${aws_s3_bucket.lake.arn}/${prefix}/*"
    ]
  }

  statement {
    sid       = "ReadWarehousePassword"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [aws_secretsmanager_secret.db_password.arn]
  }

  statement {
    sid       = "UseDataKeyThroughS3AndSecretsManager"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.data.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = local.kms_via_services
    }
  }
}

resource "aws_iam_policy" "pipeline" {
  name        = "${local.name}-pipeline"
  description = "Least privilege for the ShopFlow pipeline"
  policy      = data.aws_iam_policy_document.pipeline.json
}

resource "aws_iam_role_policy_attachment" "pipeline" {
  role       = aws_iam_role.pipeline.name
  policy_arn = aws_iam_policy.pipeline.arn
}
