# Written by `ferry policy --format terraform` for events.yaml (runtime lambda).
#
# Notes:
# - the role is taken to be arn:aws:iam::123456789012:role/ferry, in the source's account 123456789012; give
#   --role-arn if it is elsewhere
# - no rule replicates SSE-KMS objects (SourceSelectionCriteria), so no kms:Decrypt is granted; sync and
#   backfill copy SSE-KMS objects whatever the rules say: if the source holds any, give their keys with
#   --source-kms-key
# - --runtime lambda: run.sqs is read by the function's SQS event source mapping, with the function's role
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
        Resource = "arn:aws:s3:::uploads"
      },
      {
        Sid    = "ReadSourceBucketSettings"
        Effect = "Allow"
        Action = [
          "s3:GetBucketVersioning",
          "s3:GetBucketNotification",
        ]
        Resource = "arn:aws:s3:::uploads"
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
        Resource = "arn:aws:s3:::uploads/*"
      },
      {
        Sid    = "ListDestUploadsArchive"
        Effect = "Allow"
        Action = [
          "s3:ListBucket",
          "s3:ListBucketVersions",
        ]
        Resource = "arn:aws:s3:::uploads-archive"
      },
      {
        Sid    = "ReadDestUploadsArchiveSettings"
        Effect = "Allow"
        Action = [
          "s3:GetBucketVersioning",
          "s3:GetBucketObjectLockConfiguration",
        ]
        Resource = "arn:aws:s3:::uploads-archive"
      },
      {
        Sid    = "WriteDestUploadsArchiveReplicas"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:GetObjectVersion",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:AbortMultipartUpload",
        ]
        Resource = "arn:aws:s3:::uploads-archive/*"
      },
      {
        Sid    = "CheckProbeDestUploadsArchive"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:PutObjectTagging",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
        ]
        Resource = "arn:aws:s3:::uploads-archive/.ferry-check/*"
      },
      {
        Sid    = "ReceiveS3Events"
        Effect = "Allow"
        Action = [
          "sqs:GetQueueAttributes",
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
        ]
        Resource = "arn:aws:sqs:us-east-1:123456789012:ferry-events"
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
          "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/ferry",
          "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/ferry:*",
        ]
      },
    ]
  })
}

# Lets S3 send the source bucket's event notifications to ferry-events.
resource "aws_sqs_queue_policy" "ferry_events" {
  queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/ferry-events"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "AllowS3ToSendEvents"
        Effect = "Allow"
        Principal = {
          Service = "s3.amazonaws.com"
        }
        Action   = "sqs:SendMessage"
        Resource = "arn:aws:sqs:us-east-1:123456789012:ferry-events"
        Condition = {
          ArnLike = {
            "aws:SourceArn" = "arn:aws:s3:::uploads"
          }
          StringEquals = {
            "aws:SourceAccount" = "123456789012"
          }
        }
      },
    ]
  })
}
