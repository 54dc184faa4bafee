# The preamble the EC2 host scripts share (the bootstraps of the GitLab server, the runners,
# the jobs-mode manager and workers, runner-token-sync, and the runners' spot-interruption
# watcher and termination handler): logging, the AWS CLI seam for tests, bounded retries, the
# settings check and a bootstrap's failure handling.
#
# Not shipped as a file: userdata/host-scripts.ts puts this text in place of the two lines
# that source it (see libraryInclude() there), so every host gets self-contained scripts
# and nothing on a host can pair a script with another version of its preamble. Run from the
# repository, the same two lines source this file; shellcheck follows them (-x).
#
# The including script sets, before it calls these: SCRIPT_NAME (the tag of its log lines);
# for on_bootstrap_error also STATE_DIR and LOG; for report_failure AWS_REGION and METRIC_HOST
# (from its config; without them it reports nothing); for remove_on_exit an EXIT trap that
# runs remove_scratch.

# What the bootstrap is doing now: the ERR trap names it, and leaves it in bootstrap.failed.
step="start"

# bash's own clock, not a `date` process per line; TZ=UTC0 holds for this printf only.
log() { TZ=UTC0 printf '%(%FT%TZ)T %s: %s\n' -1 "$SCRIPT_NAME" "$*"; }

# Tests send the API calls to a local recorder; AWS CLI 2.13+ also reads AWS_ENDPOINT_URL itself.
aws_api() {
  if [ -n "${AWS_ENDPOINT_URL:-}" ]; then aws --endpoint-url "$AWS_ENDPOINT_URL" "$@"; else aws "$@"; fi
}

# Network steps are retried with bounded exponential backoff: in an instance's first minutes
# mirrors, Secrets Manager and IAM (a new role's policy reaching every endpoint) come and go.
# 6 attempts, 5 s before the second, doubling, at most 60 s apart: about 2 minutes in all.
readonly RETRY_ATTEMPTS=6
readonly RETRY_FIRST_DELAY_MS="${BOOTSTRAP_RETRY_DELAY_MS:-5000}"

# Runs "$@" until it succeeds, at most RETRY_ATTEMPTS times; returns its last status. (The
# command runs as a condition, so neither `set -e` nor the ERR trap stop it half-way: give it
# one command, or a function whose every step is chained with &&.)
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

# Fails when one of the named settings (sourced from <config>) is empty. One by one, not with
# ${VAR:?}: that exits past the ERR trap and its failure marker; this failure goes through it.
require_settings() { # <config> <name>...
  local config="$1" setting
  shift
  for setting in "$@"; do
    [ -n "${!setting:-}" ] || { log "$setting is missing in $config"; return 1; }
  done
}

# Paths removed when the script ends (remove_on_exit adds to them).
scratch=()

# Has <path>s (a download not verified yet, say) removed however the script ends, failure
# included: the ERR trap exits from the failed step, past any removal that follows it.
remove_on_exit() { scratch+=("$@"); }

# The EXIT trap's: a leftover directory must not fail, or mark failed, a finished bootstrap.
remove_scratch() {
  [ "${#scratch[@]}" -eq 0 ] || rm -rf -- "${scratch[@]}" || log "could not remove ${scratch[*]}"
}

# The BootstrapFailed metric the bootstrap-failed alarms watch (once the AWS CLI is there).
report_failure() {
  [ -n "${AWS_REGION:-}" ] && [ -n "${METRIC_HOST:-}" ] && command -v aws > /dev/null &&
    aws_api cloudwatch put-metric-data --region "$AWS_REGION" --namespace GitLab/Bootstrap --metric-name BootstrapFailed \
      --value 1 --unit Count --dimensions "Host=$METRIC_HOST"
}

# A bootstrap's ERR trap: logs the failed step, leaves it in $STATE_DIR/bootstrap.failed (and
# exits non-zero, so `cloud-init status` reports an error) and reports it to CloudWatch.
# Given what failed (`trap 'on_bootstrap_error "runner bootstrap"' ERR`), it also powers the
# instance off in a minute: a runner that cannot take jobs must not hold a place in its group
# (EC2's own checks pass). The launch template makes that a termination, and Auto Scaling
# replaces an instance that is no longer running at once, even within the health check grace
# period. No IAM permission is involved (SetInstanceHealth cannot be limited to the caller's
# own instance, so any job could have taken the other runners down with it). The minute's
# delay lets the CloudWatch agent ship the log.
on_bootstrap_error() { # [<what failed>: power the instance off]
  local code=$?
  trap - ERR
  log "FAILED at step '$step' (exit $code); see $LOG"
  echo "$step" > "$STATE_DIR/bootstrap.failed"
  report_failure || log "could not report the failure to CloudWatch"
  if [ -n "${1:-}" ]; then
    log "powering off in 1 minute: the instance terminates and Auto Scaling launches a replacement"
    shutdown -P +1 "$1 failed at step '$step'" || log "could not schedule the power-off"
  fi
  exit "$code"
}
