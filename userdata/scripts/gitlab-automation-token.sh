#!/usr/bin/env bash
# Keeps GitLab's automation token (the admin token the environment's second stack gives the
# GitLab Terraform provider) live and stored. Runs after reconfigure (the EC2 bootstrap; in
# the GitLab container, from gitlab-apply-settings) and daily (gitlab-automation-token.timer
# on EC2; the backup scheduler on docker). Idempotent: it only makes a token when the stored
# one is missing, not live, or near its expiry (the Ruby in automation-token.rb decides).
#
#   gitlab-automation-token            ensure a good token is stored
#   gitlab-automation-token --rotate   a new token now, every other one revoked (after a leak)
#
# AUTOMATION_TOKEN_STORE names the store:
#   aws-secret:<name>  a Secrets Manager secret in AWS_REGION: read when it has a current
#                      value, a new token put as its new version;
#   file:<path>        a root-only file (0600, its directory 0700), replaced atomically.
# The token never reaches argv, the log or a file outside the store (a 0700 work directory
# holds it while the store is written, and goes at exit).
set -Eeuo pipefail

readonly RUBY_SCRIPT="${AUTOMATION_TOKEN_SCRIPT:-/etc/gitlab/automation-token.rb}"
readonly LINE_PREFIX="automation-token "
readonly SCRIPT_NAME="gitlab-automation-token"

# shellcheck source-path=SCRIPTDIR source=lib/preamble.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"

fail() { log "$*" >&2; exit 1; }
# To stderr: the step that fails may be a command whose stdout goes elsewhere (/dev/null, a variable).
trap 'log "FAILED at step: $step" >&2' ERR

rotate=0
case "${1:-}" in
  "") ;;
  --rotate) rotate=1 ;;
  *) fail "usage: gitlab-automation-token [--rotate]" ;;
esac
store="${AUTOMATION_TOKEN_STORE:-}"
kind="${store%%:*}"
target="${store#*:}"
case "$kind" in
  aws-secret) [ -n "${AWS_REGION:-}" ] || fail "AWS_REGION is not set" ;;
  file) [[ "$target" == /* ]] || fail "AUTOMATION_TOKEN_STORE=file:<path> needs an absolute path" ;;
  *) fail "AUTOMATION_TOKEN_STORE must be aws-secret:<name> or file:<path> (got '$store')" ;;
esac
[ -n "$target" ] && [ "$target" != "$store" ] || fail "AUTOMATION_TOKEN_STORE names no secret or file"
[ -s "$RUBY_SCRIPT" ] || fail "$RUBY_SCRIPT is missing"

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step="read the stored token"
: > "$work/stored"
if [ "$kind" = aws-secret ]; then
  # A secret created without a value has no AWSCURRENT version: then there is no token yet.
  stages=$(aws_api secretsmanager describe-secret --region "$AWS_REGION" --secret-id "$target" --query VersionIdsToStages --output json)
  if [[ "$stages" == *'"AWSCURRENT"'* ]]; then
    aws_api secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$target" --query SecretString --output text > "$work/stored"
  fi
elif [ -f "$target" ]; then
  cat "$target" > "$work/stored"
fi
[ -s "$work/stored" ] || log "the store ($store) holds no token yet"

step="ensure the token in GitLab"
# gitlab-rails runs as GitLab's git user, which cannot read root-only files: the script goes in
# as code, the stored token through the environment, a new one comes back on stdout.
AUTOMATION_TOKEN_STORED="$(cat "$work/stored")" AUTOMATION_TOKEN_ROTATE="$rotate" \
  gitlab-rails runner "$(cat "$RUBY_SCRIPT")" > "$work/out"
sed -n "s/^$LINE_PREFIX//p" "$work/out" | tail -n 1 | tr -d '\r\n' > "$work/new"
if [ ! -s "$work/new" ]; then
  log "the stored token is still good; nothing stored"
  exit 0
fi

step="store the new token"
if [ "$kind" = aws-secret ]; then
  aws_api secretsmanager put-secret-value --region "$AWS_REGION" --secret-id "$target" \
    --secret-string "file://$work/new" --query VersionId --output text > /dev/null
else
  dir=$(dirname "$target")
  install -d -m 0700 "$dir"
  tmp=$(mktemp "$dir/.automation-token.XXXXXX")
  cat "$work/new" > "$tmp"
  chmod 0600 "$tmp"
  mv -f "$tmp" "$target"
fi
log "stored a new token in $store"
