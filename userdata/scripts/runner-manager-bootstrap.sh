#!/usr/bin/env bash
# Bootstraps the runner manager of a jobs-mode fleet (runners.scaling: jobs) on Amazon Linux
# 2023: gitlab-runner with the docker-autoscaler executor, which drives the worker group
# through GitLab's fleeting plugin for AWS. Run once by cloud-init. The manager runs no job
# itself: no Docker here; the workers have it.
#
# As runner-bootstrap.sh: every step must succeed; a failure logs its step, leaves it in
# $STATE_DIR/bootstrap.failed, reports BootstrapFailed to CloudWatch and powers the instance
# off (its launch template makes that a termination; the one-instance group replaces it).
set -Eeuo pipefail

# Tests run this script against a scratch tree: BOOTSTRAP_ROOT (empty on the host) prefixes
# every path the script itself reads, writes or runs.
readonly ROOT="${BOOTSTRAP_ROOT:-}"
readonly CONFIG="$ROOT/etc/gitlab-runner-fleet/bootstrap.env"
readonly STATE_DIR="$ROOT/var/lib/runner-fleet"
readonly LOG="$ROOT/var/log/runner-bootstrap.log"
readonly RUNNER_BIN="$ROOT/usr/local/bin/gitlab-runner"
readonly CWAGENT_CTL="$ROOT/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
readonly IMDS_URL="${IMDS_URL:-http://169.254.169.254}"
# A replaced manager drains for up to the termination hook's 600 s; its successor waits that
# long and a little more before it takes the worker group over (see "wait for the previous
# manager" below).
readonly PREDECESSOR_WAIT_SECONDS="${PREDECESSOR_WAIT_SECONDS:-720}"
readonly PREDECESSOR_POLL_SECONDS="${PREDECESSOR_POLL_SECONDS:-10}"
readonly SCRIPT_NAME="runner-manager-bootstrap"

# log, aws_api, retry, require_settings, on_bootstrap_error and remove_on_exit;
# install_gitlab_runner and start_gitlab_runner (both inlined in the user data).
# shellcheck source-path=SCRIPTDIR source=lib/preamble.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"
# shellcheck source-path=SCRIPTDIR source=lib/gitlab-runner.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/gitlab-runner.sh"

mkdir -p "$STATE_DIR"
exec > >(tee -a "$LOG") 2>&1

# A manager that cannot run leaves its group: it powers itself off (see on_bootstrap_error).
trap 'on_bootstrap_error "runner manager bootstrap"' ERR
# A download that failed its check (or the script) is not left behind: see remove_on_exit.
trap remove_scratch EXIT

# The network steps, each one command or a chain of &&, for retry.
# From registry.gitlab.com (an OCI artifact), into FLEETING_PLUGIN_PATH: the version that
# config.toml's `plugin = "aws:<major.minor>"` allows, newest patch first.
install_plugin() {
  "$RUNNER_BIN" fleeting -c /etc/gitlab-runner/config.toml install
}
# Results go to files, not through $(…): a failure inside a command substitution would run
# the ERR trap twice (set -E).
instance_id() { # <file>
  local token
  token=$(curl -fs --max-time 2 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" "$IMDS_URL/latest/api/token") &&
    curl -fs --max-time 2 -H "X-aws-ec2-metadata-token: $token" "$IMDS_URL/latest/meta-data/instance-id" > "$1" &&
    [ -s "$1" ]
}
# The manager group's other instances and their lifecycle states, one per line (none: empty).
other_managers() { # <own instance id> <file>
  aws_api autoscaling describe-auto-scaling-groups --region "$AWS_REGION" --auto-scaling-group-names "$MANAGER_GROUP" \
    --query "AutoScalingGroups[0].Instances[?InstanceId!='$1'].[InstanceId,LifecycleState]" --output text > "$2"
}

step="read $CONFIG"
# shellcheck source=/dev/null
. "$CONFIG"
require_settings "$CONFIG" RUNNER_VERSION AWS_REGION TOKEN_SECRET_ID METRIC_HOST MANAGER_GROUP FLEETING_PLUGIN_PATH
export FLEETING_PLUGIN_PATH
rm -f "$STATE_DIR/bootstrap.failed"

step="install packages"
dnf install -y amazon-cloudwatch-agent rsyslog logrotate
command -v aws > /dev/null || dnf install -y awscli-2

step="start rsyslog and the CloudWatch agent"
systemctl enable --now rsyslog
"$CWAGENT_CTL" -a fetch-config -m ec2 -s -c file:/etc/gitlab-runner-fleet/cloudwatch-agent.json

step="install gitlab-runner $RUNNER_VERSION"
install_gitlab_runner "$RUNNER_VERSION"

step="write config.toml"
# runner-token-sync waits (bounded) for the token the `<env>-gitlab` stack writes, then puts
# it into the root-only config file; never to argv or logs. Its timer keeps it current.
"$ROOT/usr/local/sbin/runner-token-sync" --wait

step="install the fleeting plugin"
# Needs HTTPS to registry.gitlab.com (and the storage it redirects to), through the NAT.
install -d -m 0755 "$ROOT$FLEETING_PLUGIN_PATH"
retry "installing the fleeting plugin" install_plugin

step="wait for the previous manager"
# Two managers must never drive one worker group: a starting manager removes the instances
# it finds there, and those would be its predecessor's, running jobs. A replaced manager
# (instance refresh, Spot, a failed health check) drains through the termination hook while
# Auto Scaling may already boot this one, so this one waits until the group holds no other
# instance, at most PREDECESSOR_WAIT_SECONDS.
retry "reading the instance id (IMDSv2)" instance_id "$STATE_DIR/instance-id"
own_id=$(< "$STATE_DIR/instance-id")
deadline=$((SECONDS + PREDECESSOR_WAIT_SECONDS))
while :; do
  retry "listing the manager group's instances" other_managers "$own_id" "$STATE_DIR/other-managers"
  others=$(< "$STATE_DIR/other-managers")
  if [ -z "$others" ] || [ "$others" = "None" ]; then
    log "no other manager in $MANAGER_GROUP"
    break
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "another manager is still in $MANAGER_GROUP after ${PREDECESSOR_WAIT_SECONDS}s ($(echo "$others" | tr '\t\n' ' ')); taking over"
    break
  fi
  log "waiting for the previous manager to leave $MANAGER_GROUP: $(echo "$others" | tr '\t\n' ' ')"
  sleep "$PREDECESSOR_POLL_SECONDS"
done

step="start gitlab-runner"
start_gitlab_runner

step="start the Spot interruption watcher"
systemctl enable --now spot-interruption-watcher.service runner-token-sync.timer

step="done"
date -u +%FT%TZ > "$STATE_DIR/bootstrap.done"
log "gitlab-runner $RUNNER_VERSION (docker-autoscaler) is running"
