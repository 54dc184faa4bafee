#!/usr/bin/env bash
# Applies the plan saved by this pipeline's plan job, and nothing else.
#   scripts/ci/apply.sh <env>|<env>-gitlab
set -euo pipefail

env="${1:?usage: apply.sh <env>|<env>-gitlab}"
stack="cdktf.out/stacks/$env"

# The second stack, after the first: waits (bounded) until GitLab answers, with on docker the
# automation token from the GitLab container. Without a plan from this pipeline (GitLab could
# not be reached when it planned: a first deploy), it plans here, now that GitLab runs.
if [[ "$env" == *-gitlab ]]; then
  token="$(node cli/run.cjs gitlab-ready "$env" --wait)"
  if [ -n "$token" ]; then export GITLAB_TOKEN="$token"; fi
  # plan.sh, if it runs below, need not ask again (a second start of the CLI, a docker exec).
  export GITLAB_ANSWERED="$env"
  [ -f "$stack/plan.tfplan" ] || PLAN_BEFORE_APPLY=true
fi

# PLAN_BEFORE_APPLY=true: plan here and now, with the refresh and the lock (the homelab's
# apply runs on the only runner that can reach its Docker daemon), then apply that plan.
if [ "${PLAN_BEFORE_APPLY:-}" = true ]; then bash "$(dirname "$0")/plan.sh" "$env"; fi

[ -f "$stack/plan.tfplan" ] || { echo "apply: no saved plan for '$env' (did its plan job run in this pipeline?)" >&2; exit 1; }

# A CI job's workspace is discarded: its state must live elsewhere (s3 or gitlab).
if [ -n "${CI:-}" ]; then node --require tsx/cjs scripts/ci/require-remote-state.ts "$env"; fi

terraform -chdir="$stack" init -input=false -no-color

# The job runs inside the deploy runner's container: a plan that replaces that container
# would kill this apply half-way. Such changes are applied from a workstation.
if [ -n "${CI:-}" ]; then
  trap 'rm -f "$stack/plan.json"' EXIT # it may hold values of sensitive variables
  terraform -chdir="$stack" show -json plan.tfplan > "$stack/plan.json"
  node --require tsx/cjs scripts/ci/apply-guard.ts "$env" "$stack/plan.json"
  rm -f "$stack/plan.json"
fi

terraform -chdir="$stack" apply -input=false -no-color -lock-timeout=5m plan.tfplan
