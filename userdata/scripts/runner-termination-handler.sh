#!/usr/bin/env bash
# Takes this runner out of service before its instance goes away (the graceful
# shutdown), then lets the Auto Scaling group terminate it. Run once by the watcher with the
# reason: spot-interruption or scale-in.
#   1. stop taking jobs: SIGQUIT to gitlab-runner, its graceful shutdown (running jobs go on).
#      Not `gitlab-runner stop` first: through systemd that is SIGTERM, a forceful shutdown
#      that aborts the running jobs this sequence exists to wait for;
#   2. wait for running jobs, at most JOB_WAIT_SECONDS (5 min), and at most
#      SPOT_JOB_WAIT_SECONDS after a Spot notice (EC2 reclaims the instance 2 min after it);
#      jobs are counted from the runner's own metric gitlab_runner_jobs (docker jobs are
#      containers, not processes of the runner, so pgrep cannot see them);
#   3. gitlab-runner stop (anything still running after the wait is aborted);
#   4. gitlab-runner unregister --all-runners: with authentication tokens (glrt-, runner 16+)
#      this deletes this host's runner manager only, not the runner the other instances share;
#   5. complete the lifecycle hook with CONTINUE, so the group terminates now, not in 600 s.
# Every step is attempted even if an earlier one failed; the exit status says if any did.
set -uo pipefail

IMDS_URL="${IMDS_URL:-http://169.254.169.254}"
METRICS_URL="${METRICS_URL:-http://127.0.0.1:9252/metrics}"
JOB_WAIT_SECONDS="${JOB_WAIT_SECONDS:-300}"
SPOT_JOB_WAIT_SECONDS="${SPOT_JOB_WAIT_SECONDS:-90}"
JOB_POLL_SECONDS="${JOB_POLL_SECONDS:-5}"
GITLAB_RUNNER="${GITLAB_RUNNER:-gitlab-runner}"
AWS="${AWS:-aws}"
# Tests send the API call to a local recorder; AWS CLI 2.13+ also reads AWS_ENDPOINT_URL itself.
endpoint=()
[ -z "${AWS_ENDPOINT_URL:-}" ] || endpoint=(--endpoint-url "$AWS_ENDPOINT_URL")
SYSTEMCTL="${SYSTEMCTL:-systemctl}"
LIFECYCLE_HOOK_NAME="${LIFECYCLE_HOOK_NAME:-termination-wait}"
: "${ASG_NAME:?ASG_NAME is not set}" "${AWS_REGION:?AWS_REGION is not set}"

reason="${1:-scale-in}"
failed=0

readonly SCRIPT_NAME="runner-termination-handler"

# log (inlined in the user data).
# shellcheck source-path=SCRIPTDIR source=lib/preamble.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"

# Sets $ms to the time in whole milliseconds, from bash's own clock (EPOCHREALTIME: its
# separator follows the locale), not a `date` process per poll.
now_ms() { ms=${EPOCHREALTIME//[!0-9]/}; ms=$((ms / 1000)); }

attempt() {
  local what="$1"
  shift
  log "$what"
  "$@" || { log "FAILED ($?): $what"; failed=1; }
}

# Jobs the runner is running; 0 when nothing listens (the runner process has exited), empty
# when unknown (the endpoint answers with an error).
running_jobs() {
  local metrics rc
  metrics=$(curl -fs --max-time 2 "$METRICS_URL")
  rc=$?
  if [ "$rc" -eq 7 ]; then echo 0; return; fi
  [ "$rc" -eq 0 ] || return 0
  printf '%s\n' "$metrics" | awk '$1 ~ /^gitlab_runner_jobs($|\{)/ { n += $NF } END { print n + 0 }'
}

instance_id() {
  local token id
  for _ in 1 2 3; do
    if token=$(curl -fs --max-time 2 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" "$IMDS_URL/latest/api/token") &&
      id=$(curl -fs --max-time 2 -H "X-aws-ec2-metadata-token: $token" "$IMDS_URL/latest/meta-data/instance-id") && [ -n "$id" ]; then
      echo "$id"
      return 0
    fi
    sleep 1
  done
  return 1
}

log "instance is being terminated ($reason)"
attempt "stop taking new jobs (graceful shutdown)" "$SYSTEMCTL" kill --kill-who=main --signal=SIGQUIT gitlab-runner

cap="$JOB_WAIT_SECONDS"
if [ "$reason" = "spot-interruption" ] && [ "$SPOT_JOB_WAIT_SECONDS" -lt "$cap" ]; then cap="$SPOT_JOB_WAIT_SECONDS"; fi
now_ms
start=$ms
deadline=$((start + cap * 1000))
while :; do
  count=$(running_jobs)
  if [ "$count" = "0" ]; then
    log "no job running"
    break
  fi
  now_ms
  now=$ms
  if [ "$now" -ge "$deadline" ]; then
    log "giving up waiting after ${cap}s: ${count:-an unknown number of} job(s) still running"
    break
  fi
  left=$((deadline - now))
  nap=$((JOB_POLL_SECONDS * 1000 < left ? JOB_POLL_SECONDS * 1000 : left))
  log "${count:-an unknown number of} job(s) running; waiting ($(((now - start) / 1000))s of ${cap}s)"
  sleep "$((nap / 1000)).$(printf '%03d' $((nap % 1000)))"
done

attempt "stop gitlab-runner" "$GITLAB_RUNNER" stop
attempt "unregister this runner manager" "$GITLAB_RUNNER" unregister --all-runners

if id=$(instance_id); then
  attempt "complete lifecycle hook $LIFECYCLE_HOOK_NAME of $ASG_NAME for $id" \
    "$AWS" "${endpoint[@]}" autoscaling complete-lifecycle-action --region "$AWS_REGION" \
    --auto-scaling-group-name "$ASG_NAME" --lifecycle-hook-name "$LIFECYCLE_HOOK_NAME" \
    --instance-id "$id" --lifecycle-action-result CONTINUE
else
  log "FAILED: no instance id from $IMDS_URL; the hook times out and continues after its heartbeat"
  failed=1
fi
log "done (status $failed)"
exit "$failed"
