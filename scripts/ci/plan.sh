#!/usr/bin/env bash
# Plans one environment from the synthesized stack and writes GitLab's Terraform report.
#   scripts/ci/plan.sh <environment>     (run from the repository root, after `cdktf synth`)
set -euo pipefail

env="${1:?usage: plan.sh <environment>}"
stack="cdktf.out/stacks/$env"
[ -f "$stack/cdk.tf.json" ] || { echo "plan: no synthesized stack for '$env' in $stack" >&2; exit 1; }

# A CI job's workspace is discarded: its state must live elsewhere (s3 or gitlab).
if [ -n "${CI:-}" ]; then npx tsx scripts/ci/require-remote-state.ts "$env"; fi

# A merge request's plan only reads: it does not take the state lock, which GitLab-managed
# state grants to Maintainers only (a Developer's job token may read the state, not lock it).
# PLAN_REFRESH=false plans from the state alone, where there is nothing to refresh from (the
# homelab's merge requests run without any Docker daemon).
args=(-input=false -no-color -out=plan.tfplan)
if [ "${CI_PIPELINE_SOURCE:-}" = merge_request_event ]; then args+=(-lock=false); else args+=(-lock-timeout=5m); fi
if [ "${PLAN_REFRESH:-true}" = false ]; then args+=(-refresh=false); fi

cd "$stack"
terraform init -input=false -no-color
terraform plan "${args[@]}"
terraform show -json plan.tfplan > plan.json
cd - > /dev/null
npx tsx scripts/ci/plan-summary.ts "$stack/plan.json" "$stack/plan-report.json"
rm -f "$stack/plan.json" # it may hold values of sensitive variables; the report does not
