# Written by `ferry policy --format terraform` for ferry.yaml (runtime lambda).
#
# Notes:
# - the role is taken to be arn:aws:iam::111122223333:role/ferry, in the source's account 111122223333; give
#   --role-arn if it is elsewhere
# - the source objects' KMS keys are not named: kms:Decrypt names arn:aws:kms:us-east-1:111122223333:key/*,
#   limited to S3 reading artifacts-src's objects; name the keys with --source-kms-key for key policy
#   statements
# - artifacts-minio is reached at http://127.0.0.1:9000, not AWS S3: its statements are written in AWS's
#   policy language, which MinIO and Ceph RGW also read, but its credentials are its own server's, not this
#   role's
# - --runtime lambda: ferry sends no notifications in Lambda, so none are granted

resource "aws_iam_role" "ferry" {
  name = "ferry"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "LambdaAssumesRole"
        Effect = "Allow"
        Principal = {
          Service = "lambda.amazonaws.com"
        }
        Action = "sts:AssumeRole"
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
        Resource = "arn:aws:s3:::artifacts-src"
      },
      {
        Sid    = "ReadSourceBucketSettings"
        Effect = "Allow"
        Action = [
          "s3:GetBucketVersioning",
          "s3:GetBucketNotification",
        ]
        Resource = "arn:aws:s3:::artifacts-src"
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
        Resource = "arn:aws:s3:::artifacts-src/*"
      },
      {
        Sid      = "DecryptSourceObjects"
        Effect   = "Allow"
        Action   = "kms:Decrypt"
        Resource = "arn:aws:kms:us-east-1:111122223333:key/*"
        Condition = {
          StringEquals = {
            "kms:ViaService" = "s3.us-east-1.amazonaws.com"
          }
          StringLike = {
            "kms:EncryptionContext:aws:s3:arn" = [
              "arn:aws:s3:::artifacts-src/*",
              "arn:aws:s3:::artifacts-src",
            ]
          }
        }
      },
      {
        Sid    = "ListDestArtifactsDr"
        Effect = "Allow"
        Action = [
          "s3:ListBucket",
          "s3:ListBucketVersions",
        ]
        Resource = "arn:aws:s3:::artifacts-dr"
        Condition = {
          StringLikeIfExists = {
            "s3:prefix" = "bdp/*"
          }
        }
      },
      {
        Sid    = "ReadDestArtifactsDrSettings"
        Effect = "Allow"
        Action = [
          "s3:GetBucketVersioning",
          "s3:GetBucketObjectLockConfiguration",
        ]
        Resource = "arn:aws:s3:::artifacts-dr"
      },
      {
        Sid    = "WriteDestArtifactsDrReplicas"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:AbortMultipartUpload",
        ]
        Resource = "arn:aws:s3:::artifacts-dr/bdp/*"
      },
      {
        Sid    = "SetDestArtifactsDrReplicaACL"
        Effect = "Allow"
        Action = "s3:PutObjectAcl"
        Resource = [
          "arn:aws:s3:::artifacts-dr/bdp/*",
          "arn:aws:s3:::artifacts-dr/.ferry-check/*",
        ]
        Condition = {
          StringEquals = {
            "s3:x-amz-acl" = "bucket-owner-full-control"
          }
        }
      },
      {
        Sid      = "DeleteDestArtifactsDrReplicas"
        Effect   = "Allow"
        Action   = "s3:DeleteObject"
        Resource = "arn:aws:s3:::artifacts-dr/bdp/*"
      },
      {
        Sid    = "CheckProbeDestArtifactsDr"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
        ]
        Resource = "arn:aws:s3:::artifacts-dr/.ferry-check/*"
      },
      {
        Sid    = "EncryptDestArtifactsDrReplicas"
        Effect = "Allow"
        Action = [
          "kms:GenerateDataKey",
          "kms:Decrypt",
        ]
        Resource = "arn:aws:kms:us-west-2:111122223333:key/*"
        Condition = {
          "ForAnyValue:StringEquals" = {
            "kms:ResourceAliases" = "alias/dr-key"
          }
          StringEquals = {
            "kms:ViaService" = "s3.us-west-2.amazonaws.com"
          }
          StringLike = {
            "kms:EncryptionContext:aws:s3:arn" = [
              "arn:aws:s3:::artifacts-dr/bdp/*",
              "arn:aws:s3:::artifacts-dr/.ferry-check/*",
              "arn:aws:s3:::artifacts-dr",
            ]
          }
        }
      },
      {
        Sid    = "ListDestArtifactsMinio"
        Effect = "Allow"
        Action = [
          "s3:ListBucket",
          "s3:ListBucketVersions",
        ]
        Resource = "arn:aws:s3:::artifacts-minio"
      },
      {
        Sid    = "ReadDestArtifactsMinioSettings"
        Effect = "Allow"
        Action = [
          "s3:GetBucketVersioning",
          "s3:GetBucketObjectLockConfiguration",
        ]
        Resource = "arn:aws:s3:::artifacts-minio"
      },
      {
        Sid    = "WriteDestArtifactsMinioReplicas"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:AbortMultipartUpload",
        ]
        Resource = "arn:aws:s3:::artifacts-minio/*"
      },
      {
        Sid    = "CheckProbeDestArtifactsMinio"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
        ]
        Resource = "arn:aws:s3:::artifacts-minio/.ferry-check/*"
      },
      {
        Sid    = "WriteFunctionLogs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogGroup",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
        ]
        Resource = [
          "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/ferry",
          "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/ferry:*",
        ]
      },
    ]
  })
}

# artifacts-dr belongs to account 444455556666 (its rule names account 444455556666, and ferry acts there as
# arn:aws:iam::111122223333:role/ferry): apply this with a provider for that account. A bucket policy is
# replaced whole: merge these statements with any the bucket has.
resource "aws_s3_bucket_policy" "artifacts_dr" {
  bucket = "artifacts-dr"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "FerryListDestArtifactsDr"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action = [
          "s3:ListBucket",
          "s3:ListBucketVersions",
        ]
        Resource = "arn:aws:s3:::artifacts-dr"
        Condition = {
          StringLikeIfExists = {
            "s3:prefix" = "bdp/*"
          }
        }
      },
      {
        Sid    = "FerryReadDestArtifactsDrSettings"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action = [
          "s3:GetBucketVersioning",
          "s3:GetBucketObjectLockConfiguration",
        ]
        Resource = "arn:aws:s3:::artifacts-dr"
      },
      {
        Sid    = "FerryWriteDestArtifactsDrReplicas"
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
        Resource = "arn:aws:s3:::artifacts-dr/bdp/*"
      },
      {
        Sid    = "FerrySetDestArtifactsDrReplicaACL"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action = "s3:PutObjectAcl"
        Resource = [
          "arn:aws:s3:::artifacts-dr/bdp/*",
          "arn:aws:s3:::artifacts-dr/.ferry-check/*",
        ]
        Condition = {
          StringEquals = {
            "s3:x-amz-acl" = "bucket-owner-full-control"
          }
        }
      },
      {
        Sid    = "FerryDeleteDestArtifactsDrReplicas"
        Effect = "Allow"
        Principal = {
          AWS = aws_iam_role.ferry.arn
        }
        Action   = "s3:DeleteObject"
        Resource = "arn:aws:s3:::artifacts-dr/bdp/*"
      },
      {
        Sid    = "FerryCheckProbeDestArtifactsDr"
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
        Resource = "arn:aws:s3:::artifacts-dr/.ferry-check/*"
      },
    ]
  })
}

# Statements for the KMS keys' policies. A key policy is replaced whole, so add them to each key's own, e.g.
# Statement = concat(<the key's statements>, local.ferry_key_statements["KEY"]).
locals {
  ferry_key_statements = {
    "alias/dr-key" = [
      {
        Sid    = "AllowFerryToEncryptReplicasInArtifactsDr"
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
              "arn:aws:s3:::artifacts-dr/bdp/*",
              "arn:aws:s3:::artifacts-dr/.ferry-check/*",
              "arn:aws:s3:::artifacts-dr",
            ]
          }
        }
      },
    ]
  }
}
