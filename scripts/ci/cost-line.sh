#!/usr/bin/env bash
# Prints one line for the merge request's plan job: what the change does to the environment's
# monthly cost. With a target branch to compare with (CI_MERGE_REQUEST_DIFF_BASE_SHA), the
# delta between the target branch's synth (made by its own code: when only environment files
# differ, this checkout's code is the target's, and no checkout of the target is made) and this
# one; otherwise (a new environment, the default branch, a target that cannot be synthesized)
# this synth's total, and it says so.
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

# The target branch's synth of $env from the environment files in $1 into $2, by the app of the
# checkout in the current directory (its cdktf.json's app command, as the cdktf CLI runs it).
synth_target() {
  local config_dir=$1 out=$2
  local app
  app=$(node -e 'process.stdout.write(require(process.argv[1]).app)' "$PWD/cdktf.json") &&
    env GITLAB_CONFIG_DIR="$config_dir" GITLAB_ENVIRONMENTS="$env" CDKTF_OUTDIR="$out" sh -c "$app" > /dev/null 2> "$work/base-synth.log"
}

# Whether this checkout's code is the target branch's: nothing but environment files
# (config/*.yaml) differs from it, committed or not (the usual merge request changes one).
same_code_as_target() {
  git diff --quiet "$base_sha" -- . ':(exclude,glob)config/*.yaml' 2> /dev/null &&
    [ -z "$(git ls-files --others --exclude-standard -- . ':(exclude,glob)config/*.yaml')" ]
}

# The target branch's environment files, in a directory of their own.
target_config() {
  mkdir -p "$work/config" &&
    git ls-tree --name-only "$base_sha" config/ | grep '\.yaml$' | while read -r file; do
      git show "$base_sha:$file" > "$work/config/${file#config/}" || exit 1
    done
}

# A new environment has nothing to compare with: no synth of the target branch for it.
if [ -n "$base_sha" ] && git cat-file -e "$base_sha:config/$env.yaml" 2> /dev/null; then
  if same_code_as_target; then
    # The same code: this checkout synthesizes the target's files as the target would, with
    # its bundle already built, instead of a checkout of the target and a build of its own.
    target_config && synth_target "$work/config" "$work/out"
  elif git worktree add --detach --quiet "$work/base" "$base_sha" > /dev/null 2>&1; then
    ln -s "$PWD/node_modules" "$work/base/node_modules"
    # Its bundle shares this checkout's cache, where it is kept by its sources' contents.
    (cd "$work/base" && synth_target "$work/base/config" "$work/out")
  else
    false
  fi && [ -f "$work/out/stacks/$env/cdk.tf.json" ] && compare=(--compare "$work/out/stacks/$env/cdk.tf.json")
fi

node cli/run.cjs cost "$env" --no-synth --summary "${compare[@]}" || echo "cost: $env: no estimate (see the message above)"
