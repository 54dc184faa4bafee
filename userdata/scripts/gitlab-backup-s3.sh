#!/usr/bin/env bash
# Nightly GitLab backup on EC2, run by gitlab-backup.timer.
# 1. `gitlab-backup create` archives repositories, database, uploads and registry metadata
#    and uploads the archive to s3://<bucket>/$ARCHIVE_PREFIX/ itself (gitlab.rb's
#    backup_upload_connection; DIRECTORY= names the folder, which gitlab.rb cannot);
# 2. separately, gitlab.rb and gitlab-secrets.json (and the SSH host keys) go to
#    s3://<bucket>/$CONFIG_PREFIX/ (config/ in a dedicated bucket) — without them no restore
#    is possible;
# 3. only then is success reported to CloudWatch; the "backup too old" alarm fires when
#    no success arrives in time, so a failure anywhere is visible.
set -Eeuo pipefail

: "${BACKUP_BUCKET:?BACKUP_BUCKET is not set}" "${AWS_REGION:?AWS_REGION is not set}" "${ENVIRONMENT:?ENVIRONMENT is not set}"
: "${ARCHIVE_PREFIX:?ARCHIVE_PREFIX is not set}" "${CONFIG_PREFIX:?CONFIG_PREFIX is not set}"
aws_cli="${AWS_CLI:-aws}"
# Tests send the API calls to a local recorder; AWS CLI 2.13+ also reads AWS_ENDPOINT_URL itself.
endpoint=()
[ -z "${AWS_ENDPOINT_URL:-}" ] || endpoint=(--endpoint-url "$AWS_ENDPOINT_URL")
namespace="${METRIC_NAMESPACE:-GitLab/Backups}"
SSH_ETC="${SSH_ETC:-/etc/ssh}"

step="start"
log() { echo "gitlab-backup-s3: $*"; }
trap 'log "FAILED at step: $step"' ERR

step="gitlab-backup create"
log "creating and uploading the GitLab backup archive"
gitlab-backup create CRON=1 "DIRECTORY=$ARCHIVE_PREFIX"

step="archive /etc/gitlab"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 077
# The instance's SSH host keys too (git over SSH): without them a restored server greets
# every client with "host key changed".
shopt -s nullglob
host_keys=("$SSH_ETC"/ssh_host_*_key "$SSH_ETC"/ssh_host_*_key.pub)
shopt -u nullglob
members=(-C /etc/gitlab gitlab.rb gitlab-secrets.json)
if [ "${#host_keys[@]}" -gt 0 ]; then members+=(-C "$SSH_ETC" "${host_keys[@]##*/}"); fi
tar -czf "$work/gitlab-config-$stamp.tar.gz" "${members[@]}"

step="upload /etc/gitlab archive"
"$aws_cli" "${endpoint[@]}" s3 cp --only-show-errors --region "$AWS_REGION" --sse AES256 \
  "$work/gitlab-config-$stamp.tar.gz" "s3://$BACKUP_BUCKET/$CONFIG_PREFIX/gitlab-config-$stamp.tar.gz"

step="report success"
"$aws_cli" "${endpoint[@]}" cloudwatch put-metric-data --region "$AWS_REGION" --namespace "$namespace" \
  --metric-name BackupSucceeded --value 1 --unit Count --dimensions "Environment=$ENVIRONMENT"
log "backup complete: archive and config uploaded to s3://$BACKUP_BUCKET"
