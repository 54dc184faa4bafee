#!/usr/bin/env bash
# Prints one line for the merge request's plan job: what the change does to the environment's
# monthly cost. With a target branch to compare with (CI_MERGE_REQUEST_DIFF_BASE_SHA), the
# delta between the target branch's synth and this one; otherwise (a new environment, the
# default branch, a target that cannot be synthesized) this synth's total, and it says so.
# Never fails the job: a cost line is information, not a gate.
#   scripts/ci/cost-line.sh <environment>     (repository root, after the synth job)
set -uo pipefail

env="${1:?usage: cost-line.sh <environment>}"
base_sha="${CI_MERGE_REQUEST_DIFF_BASE_SHA:-}"
compare=()
work=$(mktemp -d)
cleanup() {
  git worktree remove --force "$work/base" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A new environment has nothing to compare with: no checkout of the target branch for it.
if [ -n "$base_sha" ] && git cat-file -e "$base_sha:config/$env.yaml" 2> /dev/null &&
  git worktree add --detach --quiet "$work/base" "$base_sha" > /dev/null 2>&1; then
  ln -s "$PWD/node_modules" "$work/base/node_modules"
  # The target branch's own app command, as the cdktf CLI would run it there. Its bundle comes
  # from the cache in the linked node_modules, kept by its sources' contents (cli/bundle-cache.cjs):
  # built again only when the change is to the code.
  app=$(node -e 'process.stdout.write(require(process.argv[1]).app)' "$work/base/cdktf.json")
  if (cd "$work/base" && env -u GITLAB_CONFIG_DIR GITLAB_ENVIRONMENTS="$env" CDKTF_OUTDIR="$work/out" \
    sh -c "$app" > /dev/null 2> "$work/base-synth.log") &&
    [ -f "$work/out/stacks/$env/cdk.tf.json" ]; then
    compare=(--compare "$work/out/stacks/$env/cdk.tf.json")
  fi
fi

node cli/run.cjs cost "$env" --no-synth --summary "${compare[@]}" || echo "cost: $env: no estimate (see the message above)"
