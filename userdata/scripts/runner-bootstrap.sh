#!/usr/bin/env bash
# Bootstraps a GitLab Runner Spot instance (Amazon Linux 2023). Run once by cloud-init.
#
# Every step must succeed. A failure logs its step, leaves it in $STATE_DIR/bootstrap.failed
# and exits non-zero, so `cloud-init status` reports an error: no step is silently skipped
# (seed 004's incident: a failed write to /etc/cron.d, which AL2023 lacks, aborted the rest).
set -Eeuo pipefail

# Tests run this script against a scratch tree, as gitlab-bootstrap.sh's: BOOTSTRAP_ROOT
# (empty on the host) prefixes every path the script itself reads, writes or runs.
readonly ROOT="${BOOTSTRAP_ROOT:-}"
readonly CONFIG="$ROOT/etc/gitlab-runner-fleet/bootstrap.env"
readonly STATE_DIR="$ROOT/var/lib/runner-fleet"
readonly LOG="$ROOT/var/log/runner-bootstrap.log"
readonly RUNNER_BIN="$ROOT/usr/local/bin/gitlab-runner"
readonly RUNNER_ETC="$ROOT/etc/gitlab-runner"
readonly CWAGENT_CTL="$ROOT/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
readonly IMDS_URL=http://169.254.169.254

mkdir -p "$STATE_DIR"
exec > >(tee -a "$LOG") 2>&1

step="start"
log() { echo "$(date -u +%FT%TZ) runner-bootstrap: $*"; }
# A runner that cannot take jobs must not hold a place in the group (EC2's own checks pass):
# marked unhealthy, Auto Scaling replaces it, and the failure shows in the group's activity.
mark_unhealthy() {
  local token id
  [ -n "${AWS_REGION:-}" ] || return 1
  token=$(curl -fs --max-time 2 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" "$IMDS_URL/latest/api/token") &&
    id=$(curl -fs --max-time 2 -H "X-aws-ec2-metadata-token: $token" "$IMDS_URL/latest/meta-data/instance-id") &&
    aws autoscaling set-instance-health --region "$AWS_REGION" --instance-id "$id" --health-status Unhealthy
}
on_error() {
  local code=$?
  trap - ERR
  log "FAILED at step '$step' (exit $code); see $LOG"
  echo "$step" > "$STATE_DIR/bootstrap.failed"
  if mark_unhealthy; then log "marked this instance unhealthy: Auto Scaling replaces it"; else log "could not mark this instance unhealthy"; fi
  exit "$code"
}
trap on_error ERR

# shellcheck source=/dev/null
. "$CONFIG"
: "${RUNNER_VERSION:?missing in $CONFIG}" "${AWS_REGION:?missing in $CONFIG}" "${TOKEN_SECRET_ARN:?missing in $CONFIG}"
rm -f "$STATE_DIR/bootstrap.failed"

step="install packages"
dnf install -y docker amazon-cloudwatch-agent rsyslog logrotate
command -v aws > /dev/null || dnf install -y awscli-2

step="start rsyslog and the CloudWatch agent"
# AL2023 logs to the journal only; rsyslog writes the /var/log/messages the agent ships.
systemctl enable --now rsyslog
"$CWAGENT_CTL" -a fetch-config -m ec2 -s -c file:/etc/gitlab-runner-fleet/cloudwatch-agent.json

step="start docker"
systemctl enable --now docker

step="install gitlab-runner $RUNNER_VERSION"
# The official binary of exactly this release, checked against the release's sha256 list.
url="https://gitlab-runner-downloads.s3.amazonaws.com/v$RUNNER_VERSION"
tmp=$(mktemp -d)
curl -fsSL --retry 5 -o "$tmp/gitlab-runner" "$url/binaries/gitlab-runner-linux-amd64"
curl -fsSL --retry 5 -o "$tmp/release.sha256" "$url/release.sha256"
expected=$(awk '$2 ~ /^[*]?(\.\/)?binaries\/gitlab-runner-linux-amd64$/ { print $1 }' "$tmp/release.sha256")
actual=$(sha256sum "$tmp/gitlab-runner" | cut -d' ' -f1)
if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
  log "checksum mismatch: expected '$expected', got '$actual'"
  false
fi
install -m 0755 "$tmp/gitlab-runner" "$RUNNER_BIN"
rm -rf "$tmp"
id gitlab-runner > /dev/null 2>&1 || useradd --system --create-home --home-dir /home/gitlab-runner --shell /sbin/nologin gitlab-runner

step="write config.toml"
# The token goes from Secrets Manager into the root-only config file; never to argv or logs.
token=$(aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$TOKEN_SECRET_ARN" --query SecretString --output text)
[[ "$token" =~ ^[A-Za-z0-9_.-]+$ ]] || { log "the runner token secret is empty or not a token"; false; }
umask 077
config=$(< "$RUNNER_ETC/config.toml.template")
config="${config//@@RUNNER_TOKEN@@/$token}"
config="${config//\{hostname\}/$(hostname -s)}"
[[ "$config" != *@@* ]] || { log "a placeholder is left in config.toml"; false; }
printf '%s\n' "$config" > "$RUNNER_ETC/config.toml.new"
chmod 0600 "$RUNNER_ETC/config.toml.new"
mv "$RUNNER_ETC/config.toml.new" "$RUNNER_ETC/config.toml"
unset token config
umask 022

step="start gitlab-runner"
install -d -m 0755 "$ROOT/var/log/gitlab-runner"
[ -e "$ROOT/etc/systemd/system/gitlab-runner.service" ] ||
  "$RUNNER_BIN" install --user=gitlab-runner --working-directory=/home/gitlab-runner
systemctl daemon-reload
systemctl enable --now gitlab-runner

step="start the Docker cleanup timer and the Spot interruption watcher"
systemctl enable --now docker-cleanup.timer spot-interruption-watcher.service

step="done"
date -u +%FT%TZ > "$STATE_DIR/bootstrap.done"
log "gitlab-runner $RUNNER_VERSION is running"
