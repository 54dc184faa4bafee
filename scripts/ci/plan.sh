#!/usr/bin/env bash
# Plans one stack of an environment (<env>, or its second stack <env>-gitlab) from the
# synthesized stack and writes GitLab's Terraform report.
#   scripts/ci/plan.sh <env>|<env>-gitlab     (run from the repository root, after `cdktf synth`)
set -euo pipefail

env="${1:?usage: plan.sh <env>|<env>-gitlab}"
stack="cdktf.out/stacks/$env"
[ -f "$stack/cdk.tf.json" ] || { echo "plan: no synthesized stack for '$env' in $stack" >&2; exit 1; }

# A CI job's workspace is discarded: its state must live elsewhere (s3 or gitlab).
if [ -n "${CI:-}" ]; then node --require tsx/cjs scripts/ci/require-remote-state.ts "$env"; fi

# The second stack plans against GitLab itself: it must answer (not yet on a first deploy,
# when the apply job plans it after the first stack), and on docker the provider's token
# comes from the GitLab container (GITLAB_TOKEN, never printed). Run by apply.sh, which has
# just waited for GitLab and exported the token, it does not ask again (GITLAB_ANSWERED).
if [[ "$env" == *-gitlab && "${GITLAB_ANSWERED:-}" != "$env" ]]; then
  status=0
  token="$(node cli/run.cjs gitlab-ready "$env" --probe)" || status=$?
  if [ "$status" = 3 ]; then
    echo "plan: $env not planned: GitLab cannot be reached yet; its apply job plans it once the first stack is applied" >&2
    exit 0
  fi
  [ "$status" = 0 ] || exit "$status"
  if [ -n "$token" ]; then export GITLAB_TOKEN="$token"; fi
fi

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
node --require tsx/cjs scripts/ci/plan-summary.ts "$stack/plan.json" "$stack/plan-report.json"
rm -f "$stack/plan.json" # it may hold values of sensitive variables; the report does not
