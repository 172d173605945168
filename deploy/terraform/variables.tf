variable "aws_region" {
  description = "AWS region for every resource, e.g. eu-west-1."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as eu-west-1."
  }
}

variable "project" {
  description = "Short project name, the prefix of every resource name."
  type        = string
  default     = "shopflow"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be 2-21 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Deployment environment: dev, staging or prod (part of every name)."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be one of dev, staging, prod."
  }
}

variable "tags" {
  description = "Extra tags for every resource (cost centre, owner, ...)."
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  description = "The VPC the warehouse lives in (the EKS cluster's VPC)."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must look like vpc-0123abcd."
  }
}

variable "private_subnet_ids" {
  description = "At least two private subnets in different availability zones for the database subnet group."
  type        = list(string)

  validation {
    condition     = length(var.private_subnet_ids) >= 2 && alltrue([for id in var.private_subnet_ids : can(regex("^subnet-[0-9a-f]+$", id))])
    error_message = "private_subnet_ids needs at least two subnet ids (subnet-...)."
  }
}

variable "db_client_security_group_ids" {
  description = "Security groups allowed to reach Postgres on 5432 (the EKS nodes' or pods' group)."
  type        = list(string)

  validation {
    condition     = length(var.db_client_security_group_ids) >= 1
    error_message = "Name at least one client security group: nothing else may reach the database."
  }
}

variable "db_instance_class" {
  description = "RDS instance class for the warehouse."
  type        = string
  default     = "db.t4g.medium"

  validation {
    condition     = startswith(var.db_instance_class, "db.")
    error_message = "db_instance_class must be an RDS class such as db.t4g.medium."
  }
}

variable "db_engine_version" {
  description = "PostgreSQL major version (the project is tested on 18 locally; use the newest RDS offers)."
  type        = string
  default     = "17"
}

variable "db_allocated_storage_gb" {
  description = "Initial storage of the warehouse, in GiB (storage autoscaling grows it up to 5x)."
  type        = number
  default     = 50

  validation {
    condition     = var.db_allocated_storage_gb >= 20 && var.db_allocated_storage_gb <= 16384
    error_message = "db_allocated_storage_gb must be between 20 and 16384."
  }
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 7 and 35."
  }
}

variable "db_multi_az" {
  description = "Run a standby in a second availability zone (recommended for prod)."
  type        = bool
  default     = true
}

variable "db_username" {
  description = "Master user of the RDS instance, which is also SHOPFLOW_PG_USER."
  type        = string
  default     = "shopflow"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{2,62}$", var.db_username))
    error_message = "db_username must be 3-63 lowercase letters, digits or underscores, starting with a letter."
  }
}

variable "eks_oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider (IRSA): the pipeline's pods assume their role through it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/", var.eks_oidc_provider_arn))
    error_message = "eks_oidc_provider_arn must be an IAM OIDC provider ARN."
  }
}

variable "k8s_namespace" {
  description = "Kubernetes namespace of the pipeline (deploy/kubernetes/namespace.yaml)."
  type        = string
  default     = "shopflow"
}

variable "k8s_service_account" {
  description = "Kubernetes service account the pipeline runs as (deploy/kubernetes/serviceaccount.yaml)."
  type        = string
  default     = "shopflow"
}

variable "alert_email" {
  description = "E-mail address subscribed to the alert topic; empty = subscribe something else later (Slack via Chatbot, PagerDuty)."
  type        = string
  default     = ""

  validation {
    condition     = var.alert_email == "" || can(regex("^[^@ ]+@[^@ ]+\\.[^@ ]+$", var.alert_email))
    error_message = "alert_email must be an e-mail address or empty."
  }
}

variable "pipeline_log_group_name" {
  description = "CloudWatch Logs group that receives the pipeline pods' output (Container Insights / Fluent Bit), watched for failed runs."
  type        = string
  default     = "/aws/containerinsights/shopflow/application"
}

variable "lake_noncurrent_version_days" {
  description = "Days to keep non-current object versions in the bucket before they expire."
  type        = number
  default     = 90

  validation {
    condition     = var.lake_noncurrent_version_days >= 1
    error_message = "lake_noncurrent_version_days must be at least 1."
  }
}
