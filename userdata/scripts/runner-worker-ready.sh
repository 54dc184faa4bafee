#!/usr/bin/env bash
# The docker-autoscaler's instance_ready_command: the runner manager runs it over SSH, as the
# login user, on every new worker before giving it a job. It waits for runner-worker-setup
# (cloud-init may still be installing Docker when SSH first answers), fails at once when the
# setup failed, and checks that this user can reach Docker. A non-zero exit makes the
# manager remove the instance; what this prints lands in the manager's runner log.
set -uo pipefail

STATE_DIR="${STATE_DIR:-/var/lib/runner-worker}"
SETUP_LOG="${SETUP_LOG:-/var/log/runner-worker-setup.log}"
# Below the manager's instance_acquire_timeout (15 minutes by default).
READY_WAIT_SECONDS="${READY_WAIT_SECONDS:-600}"
READY_POLL_SECONDS="${READY_POLL_SECONDS:-2}"
DOCKER="${DOCKER:-docker}"

deadline=$((SECONDS + READY_WAIT_SECONDS))
until [ -e "$STATE_DIR/ready" ]; do
  if [ -e "$STATE_DIR/failed" ]; then
    echo "runner-worker-ready: the worker's setup failed at step '$(cat "$STATE_DIR/failed")'; the end of $SETUP_LOG:" >&2
    tail -n 20 "$SETUP_LOG" >&2 2> /dev/null
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "runner-worker-ready: the worker's setup did not finish within ${READY_WAIT_SECONDS}s" >&2
    exit 1
  fi
  sleep "$READY_POLL_SECONDS"
done

if ! "$DOCKER" info > /dev/null; then
  echo "runner-worker-ready: $(id -un) cannot reach Docker" >&2
  exit 1
fi
echo "runner-worker-ready: ready"
