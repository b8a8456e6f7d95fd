# Written by `ferry policy --format terraform` for minimal.yaml (runtime ec2).
#
# Notes:
# - the role's account is unknown: the policies that name it say arn:aws:iam::<ACCOUNT_ID>:role/ferry; give
#   --role-arn (or --source-account)
# - no rule replicates SSE-KMS objects (SourceSelectionCriteria), so no kms:Decrypt is granted; sync and
#   backfill copy SSE-KMS objects whatever the rules say: if the source holds any, give their keys with
#   --source-kms-key

resource "aws_iam_role" "ferry" {
  name = "ferry"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "EC2AssumesRole"
        Effect = "Allow"
        Principal = {
          Service = "ec2.amazonaws.com"
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
        Resource = "arn:aws:s3:::photos"
      },
      {
        Sid      = "ReadSourceBucketSettings"
        Effect   = "Allow"
        Action   = "s3:GetBucketVersioning"
        Resource = "arn:aws:s3:::photos"
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
        Resource = "arn:aws:s3:::photos/*"
      },
      {
        Sid    = "ListDestPhotosBackup"
        Effect = "Allow"
        Action = [
          "s3:ListBucket",
          "s3:ListBucketVersions",
        ]
        Resource = "arn:aws:s3:::photos-backup"
      },
      {
        Sid    = "ReadDestPhotosBackupSettings"
        Effect = "Allow"
        Action = [
          "s3:GetBucketVersioning",
          "s3:GetBucketObjectLockConfiguration",
        ]
        Resource = "arn:aws:s3:::photos-backup"
      },
      {
        Sid    = "WriteDestPhotosBackupReplicas"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:AbortMultipartUpload",
        ]
        Resource = "arn:aws:s3:::photos-backup/*"
      },
      {
        Sid    = "CheckProbeDestPhotosBackup"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
        ]
        Resource = "arn:aws:s3:::photos-backup/.ferry-check/*"
      },
    ]
  })
}

resource "aws_iam_instance_profile" "ferry" {
  name = "ferry"
  role = aws_iam_role.ferry.name
}
