# The dev environment. Names of every resource derive from env (gs-dev-...), as
# glucosestream/settings.py ResourceNames does; do not override them here.
env    = "dev"
region = "us-east-1"

# Kinesis: on demand until the load is known; PROVISIONED with stream_shards is cheaper when steady.
stream_mode   = "ON_DEMAND"
stream_shards = 2

# Pipeline schedule (EventBridge Scheduler).
pipeline_schedule = "rate(1 hour)"

# Example e-mail subscribers of CRITICAL alerts (each confirms by mail).
alert_email_addresses = []

# Dev conveniences: destroyable buckets, workgroup, state table and user pool.
force_destroy       = true
deletion_protection = false

# The dashboard needs a VPC, subnets, a certificate and a host name; uncomment and fill in.
# dashboard = {
#   vpc_id                = "vpc-0123456789abcdef0"
#   public_subnet_ids     = ["subnet-aaaa", "subnet-bbbb"]
#   private_subnet_ids    = ["subnet-cccc", "subnet-dddd"]
#   allowed_cidrs         = ["203.0.113.0/24"]
#   certificate_arn       = "arn:aws:acm:us-east-1:111122223333:certificate/..."
#   domain_name           = "dashboard.dev.example.org"
#   cognito_domain_prefix = "glucosestream-dev-example"
#   image_tag             = "0123abc"
# }

# The alerts consumer: "lambda" (the default), "kcl" (the KCL application on ECS Fargate alone; the
# Lambda's event-source mapping is disabled) or "both". The KCL needs a network and an image;
# uncomment and fill in (the tests plan and rehearse envs/dev with "both").
# alerts_consumer = "both"
# alerts_kcl = {
#   vpc_id        = "vpc-0123456789abcdef0"
#   subnet_ids    = ["subnet-cccc", "subnet-dddd"]
#   image_tag     = "0123abc"
#   desired_count = 1
# }

# GS_PSEUDONYM_KEY is not set here (it is a secret): export TF_VAR_pseudonym_key=... (>= 32 characters).
# Ingest API keys are secrets as well: export TF_VAR_ingest_api_keys='[{"id":"clinic-a","tenant":"clinic-a","value":"...","patient_prefix":"clinic-a-"}]'
