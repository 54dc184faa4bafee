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
readonly CWAGENT_CTL="$ROOT/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
readonly SCRIPT_NAME="runner-bootstrap"

# log, aws_api, retry, require_settings, on_bootstrap_error and remove_on_exit;
# install_gitlab_runner and start_gitlab_runner (both inlined in the user data).
# shellcheck source-path=SCRIPTDIR source=lib/preamble.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
# shellcheck source-path=SCRIPTDIR source=lib/gitlab-runner.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/gitlab-runner.sh"

mkdir -p "$STATE_DIR"
exec > >(tee -a "$LOG") 2>&1

# A runner that cannot take jobs leaves the group: it powers itself off (see on_bootstrap_error).
trap 'on_bootstrap_error "runner bootstrap"' ERR
# A download that failed its check (or the script) is not left behind: see remove_on_exit.
trap remove_scratch EXIT

step="read $CONFIG"
# shellcheck source=/dev/null
. "$CONFIG"
# A runner with a broken config must leave the group like any other failed one.
require_settings "$CONFIG" RUNNER_VERSION AWS_REGION TOKEN_SECRET_ID METRIC_HOST
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
install_gitlab_runner "$RUNNER_VERSION"

step="write config.toml"
# runner-token-sync waits (bounded) for the token the `<env>-gitlab` stack writes, then puts
# it into the root-only config file; never to argv or logs. Its timer keeps it current.
"$ROOT/usr/local/sbin/runner-token-sync" --wait

step="start gitlab-runner"
start_gitlab_runner

step="start the Docker cleanup timer and the Spot interruption watcher"
systemctl enable --now docker-cleanup.timer spot-interruption-watcher.service runner-token-sync.timer

step="done"
date -u +%FT%TZ > "$STATE_DIR/bootstrap.done"
log "gitlab-runner $RUNNER_VERSION is running"
