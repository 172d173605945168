# The alerting hook: one SNS topic, encrypted, that alarms publish to. Subscribe people and
# tools to it (e-mail below; Slack through AWS Chatbot, PagerDuty through its endpoint).
resource "aws_sns_topic" "alerts" {
  name              = "${local.name}-alerts"
  kms_master_key_id = aws_kms_key.data.arn
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alert_email == "" ? 0 : 1

  topic_arn = aws_sns_topic.alerts.arn
  protocol  = "email"
  endpoint  = var.alert_email
}

# A failed run: `shopflow run` ends a failed run with the line
# "run <id> failed at stage <stage> ..." (ingestion/cli/run.py), which reaches this log group
# through the cluster's log shipping (Container Insights / Fluent Bit).
resource "aws_cloudwatch_log_metric_filter" "failed_runs" {
  name           = "${local.name}-failed-runs"
  log_group_name = var.pipeline_log_group_name
  pattern        = "\"failed at stage\""

  metric_transformation {
    name          = "FailedRuns"
    namespace     = "ShopFlow/${var.environment}"
    value         = "1"
    default_value = "0"
  }
}

resource "aws_cloudwatch_metric_alarm" "failed_runs" {
  alarm_name          = "${local.name}-pipeline-run-failed"
  alarm_description   = "A shopflow run failed: `shopflow status` names the stage and the reason (docs/deployment.md)."
  namespace           = "ShopFlow/${var.environment}"
  metric_name         = aws_cloudwatch_log_metric_filter.failed_runs.metric_transformation[0].name
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}

# The warehouse running out of space stops every load: warn at 10 GiB free.
resource "aws_cloudwatch_metric_alarm" "db_free_storage" {
  alarm_name          = "${local.name}-warehouse-free-storage-low"
  alarm_description   = "The warehouse has less than 10 GiB free (storage autoscaling may be at its maximum)."
  namespace           = "AWS/RDS"
  metric_name         = "FreeStorageSpace"
  dimensions          = { DBInstanceIdentifier = aws_db_instance.warehouse.identifier }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 3
  threshold           = 10 * 1024 * 1024 * 1024
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alerts.arn]
  ok_actions          = [aws_sns_topic.alerts.arn]
}
