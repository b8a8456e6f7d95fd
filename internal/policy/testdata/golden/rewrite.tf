# Written by `ferry policy --format terraform` for rewrite.yaml (runtime user).
#
# Notes:
# - no rule replicates SSE-KMS objects (SourceSelectionCriteria), so no kms:Decrypt is granted; sync and
#   backfill copy SSE-KMS objects whatever the rules say: if the source holds any, give their keys with
#   --source-kms-key
# - profile "partner" assumes arn:aws:iam::999988887777:role/ferry-writer: ferry acts as that role at the
#   buckets the profile reaches, so their statements are in that role's documents

data "aws_iam_user" "ferry_sync" {
  user_name = "ferry-sync"
}

resource "aws_iam_user_policy" "ferry_sync" {
  name = "ferry-sync"
  user = data.aws_iam_user.ferry_sync.user_name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ListSourceBucket"
        Effect = "Allow"
        Action = [
          "s3:ListBucket",
          "s3:ListBucketVersions",
        ]
        Resource = "arn:aws:s3:::raw-data"
        Condition = {
          StringLikeIfExists = {
            "s3:prefix" = "prefix/*"
          }
        }
      },
      {
        Sid      = "ReadSourceBucketSettings"
        Effect   = "Allow"
        Action   = "s3:GetBucketVersioning"
        Resource = "arn:aws:s3:::raw-data"
      },
      {
        Sid    = "ReadSourceObjects"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:GetObjectTagging",
          "s3:GetObjectVersionTagging",
        ]
        Resource = "arn:aws:s3:::raw-data/prefix/*"
      },
      {
        Sid    = "ReadSourceObjectLock"
        Effect = "Allow"
        Action = [
          "s3:GetObjectRetention",
          "s3:GetObjectLegalHold",
        ]
        Resource = "arn:aws:s3:::raw-data/prefix/*"
      },
      {
        Sid      = "AssumeProfileRoles"
        Effect   = "Allow"
        Action   = "sts:AssumeRole"
        Resource = aws_iam_role.ferry_writer.arn
      },
    ]
  })
}

# Profile "partner" assumes arn:aws:iam::999988887777:role/ferry-writer: ferry acts as it at the buckets the
# profile reaches. Apply this with a provider for account 999988887777.
resource "aws_iam_role" "ferry_writer" {
  name = "ferry-writer"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "FerryAssumesRole"
        Effect = "Allow"
        Principal = {
          AWS = data.aws_iam_user.ferry_sync.arn
        }
        Action = "sts:AssumeRole"
        Condition = {
          StringEquals = {
            "sts:ExternalId" = "ferry-partner"
          }
        }
      },
    ]
  })
}

resource "aws_iam_role_policy" "ferry_writer" {
  name = "ferry"
  role = aws_iam_role.ferry_writer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ListDestPartnerLanding"
        Effect = "Allow"
        Action = [
          "s3:ListBucket",
          "s3:ListBucketVersions",
        ]
        Resource = "arn:aws:s3:::partner-landing"
        Condition = {
          StringLikeIfExists = {
            "s3:prefix" = "bdp/*"
          }
        }
      },
      {
        Sid    = "ReadDestPartnerLandingSettings"
        Effect = "Allow"
        Action = [
          "s3:GetBucketVersioning",
          "s3:GetBucketObjectLockConfiguration",
        ]
        Resource = "arn:aws:s3:::partner-landing"
      },
      {
        Sid    = "WriteDestPartnerLandingReplicas"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:AbortMultipartUpload",
        ]
        Resource = "arn:aws:s3:::partner-landing/bdp/*"
      },
      {
        Sid    = "SetDestPartnerLandingReplicaACL"
        Effect = "Allow"
        Action = "s3:PutObjectAcl"
        Resource = [
          "arn:aws:s3:::partner-landing/bdp/*",
          "arn:aws:s3:::partner-landing/.ferry-check/*",
        ]
        Condition = {
          StringEquals = {
            "s3:x-amz-acl" = "bucket-owner-full-control"
          }
        }
      },
      {
        Sid    = "WriteDestPartnerLandingObjectLock"
        Effect = "Allow"
        Action = [
          "s3:PutObjectRetention",
          "s3:PutObjectLegalHold",
        ]
        Resource = "arn:aws:s3:::partner-landing/bdp/*"
      },
      {
        Sid      = "DeleteDestPartnerLandingReplicas"
        Effect   = "Allow"
        Action   = "s3:DeleteObject"
        Resource = "arn:aws:s3:::partner-landing/bdp/*"
      },
      {
        Sid    = "CheckProbeDestPartnerLanding"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
        ]
        Resource = "arn:aws:s3:::partner-landing/.ferry-check/*"
      },
      {
        Sid    = "EncryptDestPartnerLandingReplicas"
        Effect = "Allow"
        Action = [
          "kms:GenerateDataKey",
          "kms:Decrypt",
        ]
        Resource = "arn:aws:kms:eu-central-1:999988887777:key/*"
        Condition = {
          "ForAnyValue:StringEquals" = {
            "kms:ResourceAliases" = "alias/landing"
          }
          StringEquals = {
            "kms:ViaService" = "s3.eu-central-1.amazonaws.com"
          }
          StringLike = {
            "kms:EncryptionContext:aws:s3:arn" = [
              "arn:aws:s3:::partner-landing/bdp/*",
              "arn:aws:s3:::partner-landing/.ferry-check/*",
              "arn:aws:s3:::partner-landing",
            ]
          }
        }
      },
    ]
  })
}

# Statements for the KMS keys' policies. A key policy is replaced whole, so add them to each key's own, e.g.
# Statement = concat(<the key's statements>, local.ferry_key_statements["KEY"]).
locals {
  ferry_key_statements = {
    "alias/landing" = [
      {
        Sid    = "AllowFerryToEncryptReplicasInPartnerLanding"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry_writer.arn
        }
        Action = [
          "kms:GenerateDataKey",
          "kms:Decrypt",
        ]
        Resource = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService" = "s3.eu-central-1.amazonaws.com"
          }
          StringLike = {
            "kms:EncryptionContext:aws:s3:arn" = [
              "arn:aws:s3:::partner-landing/bdp/*",
              "arn:aws:s3:::partner-landing/.ferry-check/*",
              "arn:aws:s3:::partner-landing",
            ]
          }
        }
      },
    ]
  }
}
