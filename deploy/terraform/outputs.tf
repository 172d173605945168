output "lake_bucket_name" {
  description = "The landing-and-lake bucket: source files under landing/, pipeline output under lake/."
  value       = aws_s3_bucket.lake.bucket
}

output "lake_bucket_arn" {
  description = "ARN of the landing-and-lake bucket."
  value       = aws_s3_bucket.lake.arn
}

output "db_address" {
  description = "The warehouse's host name: SHOPFLOW_PG_HOST in deploy/kubernetes/configmap.yaml."
  value       = aws_db_instance.warehouse.address
}

output "db_port" {
  description = "The warehouse's port: SHOPFLOW_PG_PORT."
  value       = aws_db_instance.warehouse.port
}

output "db_username" {
  description = "The warehouse role: SHOPFLOW_PG_USER."
  value       = aws_db_instance.warehouse.username
}

output "db_password_secret_arn" {
  description = "Secrets Manager secret holding SHOPFLOW_PG_PASSWORD (read it into the Kubernetes Secret; never print it into a log)."
  value       = aws_secretsmanager_secret.db_password.arn
}

output "pipeline_role_arn" {
  description = "IAM role for the pipeline's service account: the eks.amazonaws.com/role-arn annotation in deploy/kubernetes/serviceaccount.yaml."
  value       = aws_iam_role.pipeline.arn
}

output "alerts_topic_arn" {
  description = "SNS topic the alarms publish to: subscribe on-call tools here."
  value       = aws_sns_topic.alerts.arn
}

output "kms_key_arn" {
  description = "The project's customer-managed KMS key (bucket, database, secret, topic)."
  value       = aws_kms_key.data.arn
}
