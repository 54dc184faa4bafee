#!/usr/bin/env bash
# Applies the plan saved by this pipeline's plan job, and nothing else.
#   scripts/ci/apply.sh <environment>
set -euo pipefail

env="${1:?usage: apply.sh <environment>}"
stack="cdktf.out/stacks/$env"
[ -f "$stack/plan.tfplan" ] || { echo "apply: no saved plan for '$env' (did its plan job run in this pipeline?)" >&2; exit 1; }

# A CI job's workspace is discarded: its state must live elsewhere (s3 or gitlab).
if [ -n "${CI:-}" ]; then npx tsx scripts/ci/require-remote-state.ts "$env"; fi

cd "$stack"
terraform init -input=false -no-color
terraform apply -input=false -no-color -lock-timeout=5m plan.tfplan
