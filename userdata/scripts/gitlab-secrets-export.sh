#!/usr/bin/env bash
# Exports what a restore of the chart's backups needs and the backups do not hold: the Rails
# secret (secrets.yml, the chart's equivalent of gitlab-secrets.json: without it CI
# variables, 2FA and runner tokens in the restored database are unreadable) and GitLab
# Shell's SSH host keys (without them every git client sees "host key changed"). Run by the
# gitlab-secrets-export CronJob in the toolbox image; both Secrets are mounted read-only.
# The archive goes to its own bucket, apart from the backups (GitLab's advice).
set -Eeuo pipefail

: "${SECRETS_BUCKET:?SECRETS_BUCKET is not set}" "${RAILS_SECRET_DIR:?RAILS_SECRET_DIR is not set}"
: "${SHELL_HOST_KEYS_DIR:?SHELL_HOST_KEYS_DIR is not set}" "${ENVIRONMENT:?ENVIRONMENT is not set}"
aws_cli="${AWS_CLI:-aws}"
s3_options=(--only-show-errors)
# An S3-compatible store (MinIO on a NAS): its URL; AWS S3 otherwise, with server-side encryption.
if [ -n "${S3_ENDPOINT:-}" ]; then s3_options+=(--endpoint-url "$S3_ENDPOINT"); else s3_options+=(--sse AES256); fi

step="start"
log() { echo "gitlab-secrets-export: $*"; }
trap 'log "FAILED at step: $step"' ERR

step="read the mounted Secrets"
[ -s "$RAILS_SECRET_DIR/secrets.yml" ] || { log "no secrets.yml in $RAILS_SECRET_DIR: is the Rails secret mounted?"; exit 1; }
shopt -s nullglob
host_keys=("$SHELL_HOST_KEYS_DIR"/ssh_host_*)
shopt -u nullglob
[ "${#host_keys[@]}" -gt 0 ] || { log "no ssh_host_* keys in $SHELL_HOST_KEYS_DIR: is GitLab Shell's host key Secret mounted?"; exit 1; }

step="archive"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/content" "$work/content/ssh"
# Mounted Secret keys are symlinks into the volume's ..data directory: copy what they point at.
cp -L "$RAILS_SECRET_DIR/secrets.yml" "$work/content/gitlab-secrets.yml"
cp -L "${host_keys[@]}" "$work/content/ssh/"
archive="$work/gitlab-secrets-$ENVIRONMENT-$stamp.tar.gz"
tar -czf "$archive" -C "$work/content" .

step="upload"
"$aws_cli" s3 cp "${s3_options[@]}" "$archive" "s3://$SECRETS_BUCKET/${archive##*/}"
log "uploaded s3://$SECRETS_BUCKET/${archive##*/} (Rails secret and ${#host_keys[@]} SSH host key files)"
