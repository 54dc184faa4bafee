#!/usr/bin/env bash
# Plans one environment from the synthesized stack and writes GitLab's Terraform report.
#   scripts/ci/plan.sh <environment>     (run from the repository root, after `cdktf synth`)
set -euo pipefail

env="${1:?usage: plan.sh <environment>}"
stack="cdktf.out/stacks/$env"
[ -f "$stack/cdk.tf.json" ] || { echo "plan: no synthesized stack for '$env' in $stack" >&2; exit 1; }

# A CI job's workspace is discarded: its state must live elsewhere (s3 or gitlab).
if [ -n "${CI:-}" ]; then npx tsx scripts/ci/require-remote-state.ts "$env"; fi

cd "$stack"
terraform init -input=false -no-color
terraform plan -input=false -no-color -lock-timeout=5m -out=plan.tfplan
terraform show -json plan.tfplan > plan.json
cd - > /dev/null
npx tsx scripts/ci/plan-summary.ts "$stack/plan.json" "$stack/plan-report.json"
rm -f "$stack/plan.json" # it may hold values of sensitive variables; the report does not
