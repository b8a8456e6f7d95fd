# Written by `ferry policy --format terraform` for cross-kms.yaml (runtime ecs).
#
# Notes:
# - the role is taken to be arn:aws:iam::111122223333:role/ferry, in the source's account 111122223333; give
#   --role-arn if it is elsewhere

resource "aws_iam_role" "ferry" {
  name = "ferry"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "ECSTasksAssumeRole"
        Effect = "Allow"
        Principal = {
          Service = "ecs-tasks.amazonaws.com"
        }
        Action = "sts:AssumeRole"
        Condition = {
          ArnLike = {
            "aws:SourceArn" = "arn:aws:ecs:us-east-1:111122223333:*"
          }
          StringEquals = {
            "aws:SourceAccount" = "111122223333"
          }
        }
      },
    ]
  })
}

resource "aws_iam_role_policy" "ferry" {
  name = "ferry"
  role = aws_iam_role.ferry.id
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
        Resource = "arn:aws:s3:::ledger-src"
        Condition = {
          StringLikeIfExists = {
            "s3:prefix" = "data/*"
          }
        }
      },
      {
        Sid      = "ReadSourceBucketSettings"
        Effect   = "Allow"
        Action   = "s3:GetBucketVersioning"
        Resource = "arn:aws:s3:::ledger-src"
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
        Resource = [
          "arn:aws:s3:::ledger-src/data/ledgers/*",
          "arn:aws:s3:::ledger-src/data/reports/*",
        ]
      },
      {
        Sid      = "DecryptSourceObjects"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = "arn:aws:kms:us-east-1:111122223333:key/0f0e0d0c-aaaa-bbbb-cccc-123456789abc"
        Condition = {
          StringEquals = {
            "kms:ViaService" = "s3.us-east-1.amazonaws.com"
          }
          StringLike = {
            "kms:EncryptionContext:aws:s3:arn" = [
              "arn:aws:s3:::ledger-src/data/ledgers/*",
              "arn:aws:s3:::ledger-src/data/reports/*",
              "arn:aws:s3:::ledger-src",
            ]
          }
        }
      },
      {
        Sid    = "ListDestLedgerDr"
        Effect = "Allow"
        Action = [
          "s3:ListBucket",
          "s3:ListBucketVersions",
        ]
        Resource = "arn:aws:s3:::ledger-dr"
        Condition = {
          StringLikeIfExists = {
            "s3:prefix" = "data/*"
          }
        }
      },
      {
        Sid    = "ReadDestLedgerDrSettings"
        Effect = "Allow"
        Action = [
          "s3:GetBucketVersioning",
          "s3:GetBucketObjectLockConfiguration",
        ]
        Resource = "arn:aws:s3:::ledger-dr"
      },
      {
        Sid    = "WriteDestLedgerDrReplicas"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:AbortMultipartUpload",
        ]
        Resource = [
          "arn:aws:s3:::ledger-dr/data/ledgers/*",
          "arn:aws:s3:::ledger-dr/data/reports/*",
        ]
      },
      {
        Sid    = "SetDestLedgerDrReplicaACL"
        Effect = "Allow"
        Action = "s3:PutObjectAcl"
        Resource = [
          "arn:aws:s3:::ledger-dr/data/ledgers/*",
          "arn:aws:s3:::ledger-dr/data/reports/*",
          "arn:aws:s3:::ledger-dr/.ferry-check/*",
        ]
        Condition = {
          StringEquals = {
            "s3:x-amz-acl" = "bucket-owner-full-control"
          }
        }
      },
      {
        Sid      = "DeleteDestLedgerDrReplicas"
        Effect   = "Allow"
        Action   = "s3:DeleteObject"
        Resource = "arn:aws:s3:::ledger-dr/data/ledgers/*"
      },
      {
        Sid    = "CheckProbeDestLedgerDr"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
        ]
        Resource = "arn:aws:s3:::ledger-dr/.ferry-check/*"
      },
      {
        Sid    = "EncryptDestLedgerDrReplicas"
        Effect = "Allow"
        Action = [
          "kms:GenerateDataKey",
          "kms:Decrypt",
        ]
        Resource = "arn:aws:kms:us-west-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        Condition = {
          StringEquals = {
            "kms:ViaService" = "s3.us-west-2.amazonaws.com"
          }
          StringLike = {
            "kms:EncryptionContext:aws:s3:arn" = [
              "arn:aws:s3:::ledger-dr/data/ledgers/*",
              "arn:aws:s3:::ledger-dr/.ferry-check/*",
              "arn:aws:s3:::ledger-dr",
            ]
          }
        }
      },
    ]
  })
}

# ledger-dr belongs to account 444455556666 (its rule names account 444455556666, and ferry acts there as
# arn:aws:iam::111122223333:role/ferry): apply this with a provider for that account. A bucket policy is
# replaced whole: merge these statements with any the bucket has.
resource "aws_s3_bucket_policy" "ledger_dr" {
  bucket = "ledger-dr"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "FerryListDestLedgerDr"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action = [
          "s3:ListBucket",
          "s3:ListBucketVersions",
        ]
        Resource = "arn:aws:s3:::ledger-dr"
        Condition = {
          StringLikeIfExists = {
            "s3:prefix" = "data/*"
          }
        }
      },
      {
        Sid    = "FerryReadDestLedgerDrSettings"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action = [
          "s3:GetBucketVersioning",
          "s3:GetBucketObjectLockConfiguration",
        ]
        Resource = "arn:aws:s3:::ledger-dr"
      },
      {
        Sid    = "FerryWriteDestLedgerDrReplicas"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action = [
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:AbortMultipartUpload",
        ]
        Resource = [
          "arn:aws:s3:::ledger-dr/data/ledgers/*",
          "arn:aws:s3:::ledger-dr/data/reports/*",
        ]
      },
      {
        Sid    = "FerrySetDestLedgerDrReplicaACL"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action = "s3:PutObjectAcl"
        Resource = [
          "arn:aws:s3:::ledger-dr/data/ledgers/*",
          "arn:aws:s3:::ledger-dr/data/reports/*",
          "arn:aws:s3:::ledger-dr/.ferry-check/*",
        ]
        Condition = {
          StringEquals = {
            "s3:x-amz-acl" = "bucket-owner-full-control"
          }
        }
      },
      {
        Sid    = "FerryDeleteDestLedgerDrReplicas"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action   = "s3:DeleteObject"
        Resource = "arn:aws:s3:::ledger-dr/data/ledgers/*"
      },
      {
        Sid    = "FerryCheckProbeDestLedgerDr"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
        ]
        Resource = "arn:aws:s3:::ledger-dr/.ferry-check/*"
      },
    ]
  })
}

# Statements for the KMS keys' policies. A key policy is replaced whole, so add them to each key's own, e.g.
# Statement = concat(<the key's statements>, local.ferry_key_statements["KEY"]).
locals {
  ferry_key_statements = {
    "arn:aws:kms:us-east-1:111122223333:key/0f0e0d0c-aaaa-bbbb-cccc-123456789abc" = [
      {
        Sid    = "AllowFerryToDecryptSourceObjects"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action   = "kms:Decrypt"
        Resource = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService" = "s3.us-east-1.amazonaws.com"
          }
          StringLike = {
            "kms:EncryptionContext:aws:s3:arn" = [
              "arn:aws:s3:::ledger-src/data/ledgers/*",
              "arn:aws:s3:::ledger-src/data/reports/*",
              "arn:aws:s3:::ledger-src",
            ]
          }
        }
      },
    ]
    "arn:aws:kms:us-west-2:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab" = [
      {
        Sid    = "AllowFerryToEncryptReplicasInLedgerDr"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action = [
          "kms:GenerateDataKey",
          "kms:Decrypt",
        ]
        Resource = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService" = "s3.us-west-2.amazonaws.com"
          }
          StringLike = {
            "kms:EncryptionContext:aws:s3:arn" = [
              "arn:aws:s3:::ledger-dr/data/ledgers/*",
              "arn:aws:s3:::ledger-dr/.ferry-check/*",
              "arn:aws:s3:::ledger-dr",
            ]
          }
        }
      },
    ]
  }
}
