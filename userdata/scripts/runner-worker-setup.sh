#!/usr/bin/env bash
# Prepares a worker of a jobs-mode fleet (runners.scaling: jobs) on Amazon Linux 2023: Docker
# Engine, the login user in the docker group (the runner manager reaches Docker over SSH as
# that user), and the Docker cleanup timer. Run once by cloud-init. Workers have no IAM role
# and run no gitlab-runner: the manager drives them. The manager's instance_ready_command,
# runner-worker-ready, waits for this to finish and fails when it failed, and the manager
# then removes the instance.
#
# Every step must succeed; a failure leaves its step in $STATE_DIR/failed.
set -Eeuo pipefail

# Tests run this script against a scratch tree: BOOTSTRAP_ROOT (empty on the host) prefixes
# every path the script itself writes.
readonly ROOT="${BOOTSTRAP_ROOT:-}"
readonly STATE_DIR="$ROOT/var/lib/runner-worker"
readonly LOG="$ROOT/var/log/runner-worker-setup.log"
# The user the manager logs in as (connector_config.username; Amazon Linux's default user,
# whom EC2 Instance Connect gives the manager's one-minute key).
readonly LOGIN_USER="ec2-user"

readonly SCRIPT_NAME="runner-worker-setup"

# log and retry (inlined in the user data).
# shellcheck source-path=SCRIPTDIR source=lib/preamble.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"

mkdir -p "$STATE_DIR"
exec > >(tee -a "$LOG") 2>&1

# Not on_bootstrap_error: a worker has no IAM role to report with, and the manager's readiness
# check, not a power-off, takes a failed worker out.
on_error() {
  local code=$?
  trap - ERR
  log "FAILED at step '$step' (exit $code); the manager's readiness check reports it and removes this instance"
  echo "$step" > "$STATE_DIR/failed"
  exit "$code"
}
trap on_error ERR

rm -f "$STATE_DIR/failed" "$STATE_DIR/ready"

step="install Docker Engine"
retry "installing docker" dnf install -y docker

step="check EC2 Instance Connect"
# The manager's key reaches sshd through the Instance Connect agent (AL2023 ships it; a
# minimal image may not).
rpm -q ec2-instance-connect > /dev/null || retry "installing ec2-instance-connect" dnf install -y ec2-instance-connect

step="start docker"
systemctl enable --now docker

step="let $LOGIN_USER use Docker"
usermod -aG docker "$LOGIN_USER"

step="start the Docker cleanup timer"
systemctl enable --now docker-cleanup.timer

step="done"
date -u +%FT%TZ > "$STATE_DIR/ready"
log "ready: Docker is running and $LOGIN_USER may use it"
