# Terraform and provider versions, pinned so that a plan today and a plan next month use the
# same provider code. Upgrade deliberately: bump here, `terraform init -upgrade`, review the plan.
terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # State: configure a remote backend per environment (S3 + DynamoDB lock), e.g.
  #   terraform init -backend-config=backend.hcl
  # It is left out here so that nothing account-specific is committed.
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(var.tags, {
      project     = var.project
      environment = var.environment
      managed-by  = "terraform"
    })
  }
}
