#!/usr/bin/env bash
# Bootstraps a GitLab Runner Spot instance (Amazon Linux 2023). Run once by cloud-init.
#
# Every step must succeed. A failure logs its step, leaves it in $STATE_DIR/bootstrap.failed
# and exits non-zero, so `cloud-init status` reports an error: no step is silently skipped
# (a hand-built fleet once lost its whole setup to a failed write to /etc/cron.d, which AL2023 lacks).
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

mkdir -p "$STATE_DIR"
exec > >(tee -a "$LOG") 2>&1

# Network steps are retried with bounded backoff (as the GitLab server's bootstrap does):
# 6 attempts, 5 s before the second, doubling, at most 60 s apart.
readonly RETRY_ATTEMPTS=6
readonly RETRY_FIRST_DELAY_MS="${BOOTSTRAP_RETRY_DELAY_MS:-5000}"

step="start"
log() { echo "$(date -u +%FT%TZ) runner-bootstrap: $*"; }

# Tests send the API calls to a local recorder; AWS CLI 2.13+ also reads AWS_ENDPOINT_URL itself.
aws_api() {
  if [ -n "${AWS_ENDPOINT_URL:-}" ]; then aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; else aws "$@"; fi
}

# Runs "$@" until it succeeds, at most RETRY_ATTEMPTS times; returns its last status.
retry() {
  local what="$1" attempt=1 delay="$RETRY_FIRST_DELAY_MS" status seconds
  shift
  until "$@"; do
    status=$?
    if [ "$attempt" -ge "$RETRY_ATTEMPTS" ]; then
      log "$what failed $attempt times (last exit $status); giving up"
      return "$status"
    fi
    seconds="$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
    log "$what failed (exit $status, attempt $attempt of $RETRY_ATTEMPTS); retrying in ${seconds}s"
    sleep "$seconds"
    attempt=$((attempt + 1))
    delay=$((delay * 2 > 60000 ? 60000 : delay * 2))
  done
}

# The metric the runner-bootstrap-failed alarm watches.
report_failure() {
  [ -n "${AWS_REGION:-}" ] && [ -n "${METRIC_HOST:-}" ] &&
    aws_api cloudwatch put-metric-data --region "$AWS_REGION" --namespace GitLab/Bootstrap --metric-name BootstrapFailed \
      --value 1 --unit Count --dimensions "Host=$METRIC_HOST"
}

# A runner that cannot take jobs must not hold a place in the group (EC2's own checks pass).
# It powers itself off; the launch template makes that a termination, and Auto Scaling
# replaces an instance that is no longer running at once, even within the health check grace
# period. No IAM permission is involved (SetInstanceHealth cannot be limited to the caller's
# own instance, so any job could have taken the other runners down with it). The minute's
# delay lets the CloudWatch agent ship this log.
on_error() {
  local code=$?
  trap - ERR
  log "FAILED at step '$step' (exit $code); see $LOG"
  echo "$step" > "$STATE_DIR/bootstrap.failed"
  report_failure || log "could not report the failure to CloudWatch"
  log "powering off in 1 minute: the instance terminates and Auto Scaling launches a replacement"
  shutdown -P +1 "runner bootstrap failed at step '$step'" || log "could not schedule the power-off"
  exit "$code"
}
trap on_error ERR

# The network steps, each one command or a chain of &&, for retry.
download_runner() { # <dir> <release url>
  curl -fsSL -o "$1/gitlab-runner" "$2/binaries/gitlab-runner-linux-amd64" &&
    curl -fsSL -o "$1/release.sha256" "$2/release.sha256"
}
fetch_token() { # <file>
  aws_api secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$TOKEN_SECRET_ARN" \
    --query SecretString --output text > "$1"
}

step="read $CONFIG"
# shellcheck source=/dev/null
. "$CONFIG"
# Checked one by one, not with ${VAR:?}: that exits past the ERR trap, and a runner with a
# broken config must leave the group like any other failed one.
for setting in RUNNER_VERSION AWS_REGION TOKEN_SECRET_ARN METRIC_HOST; do
  [ -n "${!setting:-}" ] || { log "$setting is missing in $CONFIG"; false; }
done
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
retry "downloading gitlab-runner $RUNNER_VERSION" download_runner "$tmp" "$url"
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
umask 077
retry "fetching the runner token" fetch_token "$RUNNER_ETC/token.tmp"
token=$(< "$RUNNER_ETC/token.tmp")
rm -f "$RUNNER_ETC/token.tmp"
[[ "$token" =~ ^[A-Za-z0-9_.-]+$ ]] || { log "the runner token secret is empty or not a token"; false; }
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
