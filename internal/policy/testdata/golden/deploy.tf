# Written by `ferry policy --format terraform` for no config (runtime lambda).

resource "aws_iam_role" "site_deployer" {
  name = "site-deployer"
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

resource "aws_iam_role_policy" "site_deployer" {
  name = "site-deployer"
  role = aws_iam_role.site_deployer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ListDeployWwwExampleCom"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = "arn:aws:s3:::www.example.com"
      },
      {
        Sid    = "WriteDeployWwwExampleCom"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:AbortMultipartUpload",
        ]
        Resource = "arn:aws:s3:::www.example.com/*"
      },
      {
        Sid      = "SetDeployWwwExampleComACL"
        Effect   = "Allow"
        Action   = "s3:PutObjectAcl"
        Resource = "arn:aws:s3:::www.example.com/*"
        Condition = {
          StringEquals = {
            "s3:x-amz-acl" = "public-read"
          }
        }
      },
      {
        Sid      = "DeleteDeployWwwExampleCom"
        Effect   = "Allow"
        Action   = "s3:DeleteObject"
        Resource = "arn:aws:s3:::www.example.com/*"
      },
      {
        Sid    = "EncryptDeployWwwExampleCom"
        Effect = "Allow"
        Action = [
          "kms:GenerateDataKey",
          "kms:Decrypt",
        ]
        Resource = "arn:aws:kms:us-east-1:123456789012:key/*"
        Condition = {
          "ForAnyValue:StringEquals" = {
            "kms:ResourceAliases" = "alias/site"
          }
          StringEquals = {
            "kms:ViaService" = "s3.us-east-1.amazonaws.com"
          }
          StringLike = {
            "kms:EncryptionContext:aws:s3:arn" = [
              "arn:aws:s3:::www.example.com/*",
              "arn:aws:s3:::www.example.com",
            ]
          }
        }
      },
      {
        Sid      = "ListDeployStaticExampleComApp"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = "arn:aws:s3:::static.example.com"
        Condition = {
          StringLikeIfExists = {
            "s3:prefix" = "app/*"
          }
        }
      },
      {
        Sid    = "WriteDeployStaticExampleComApp"
        Effect = "Allow"
        Action = [
          "s3:GetObject",
          "s3:PutObject",
          "s3:AbortMultipartUpload",
        ]
        Resource = "arn:aws:s3:::static.example.com/app/*"
      },
      {
        Sid      = "SetDeployStaticExampleComAppACL"
        Effect   = "Allow"
        Action   = "s3:PutObjectAcl"
        Resource = "arn:aws:s3:::static.example.com/app/*"
        Condition = {
          StringEquals = {
            "s3:x-amz-acl" = "public-read"
          }
        }
      },
      {
        Sid      = "DeleteDeployStaticExampleComApp"
        Effect   = "Allow"
        Action   = "s3:DeleteObject"
        Resource = "arn:aws:s3:::static.example.com/app/*"
      },
      {
        Sid    = "EncryptDeployStaticExampleComApp"
        Effect = "Allow"
        Action = [
          "kms:GenerateDataKey",
          "kms:Decrypt",
        ]
        Resource = "arn:aws:kms:us-east-1:123456789012:key/*"
        Condition = {
          "ForAnyValue:StringEquals" = {
            "kms:ResourceAliases" = "alias/site"
          }
          StringEquals = {
            "kms:ViaService" = "s3.us-east-1.amazonaws.com"
          }
          StringLike = {
            "kms:EncryptionContext:aws:s3:arn" = [
              "arn:aws:s3:::static.example.com/app/*",
              "arn:aws:s3:::static.example.com",
            ]
          }
        }
      },
      {
        Sid    = "InvalidateDistributions"
        Effect = "Allow"
        Action = [
          "cloudfront:CreateInvalidation",
          "cloudfront:GetInvalidation",
        ]
        Resource = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHEXAMPLE"
      },
      {
        Sid    = "ReportPipelineJobs"
        Effect = "Allow"
        Action = [
          "codepipeline:PutJobSuccessResult",
          "codepipeline:PutJobFailureResult",
        ]
        Resource = "*"
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
