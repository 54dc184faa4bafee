#!/usr/bin/env bash
# Watches instance metadata (IMDSv2) for the end of this runner instance — a Spot
# interruption notice, or its Auto Scaling group moving it to Terminated (scale-in, capacity
# rebalancing) — and then runs the termination handler, once. A systemd service
# (Restart=always); the marker in STATE_DIR keeps a restarted watcher from running it again.
#
# No `set -e`: metadata errors (HTTP 500, timeouts, connection refused) are logged and
# polling goes on; an error is never taken for a termination notice.
set -uo pipefail

IMDS_URL="${IMDS_URL:-http://169.254.169.254}"
POLL_INTERVAL="${POLL_INTERVAL:-5}"
TOKEN_TTL="${TOKEN_TTL:-600}"
HANDLER="${HANDLER:-/usr/local/sbin/runner-termination-handler}"
STATE_DIR="${STATE_DIR:-/run/runner-fleet}"
readonly MARKER="$STATE_DIR/termination-handled"

token=""
renew_at=0
body=""
last_problem=""
handled=""

readonly SCRIPT_NAME="spot-interruption-watcher"

# log (inlined in the user data).
# shellcheck source-path=SCRIPTDIR source=lib/preamble.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"

# Logs a problem once, not every poll while it lasts.
problem() {
  [ "$1" = "$last_problem" ] || log "$1"
  last_problem="$1"
}

# IMDSv2 session token, renewed at half its TTL (and after a 401). The clock is bash's own
# (EPOCHSECONDS), not a `date` process every few seconds for the instance's whole life.
ensure_token() {
  local now=$EPOCHSECONDS
  if [ -n "$token" ] && [ "$now" -lt "$renew_at" ]; then return 0; fi
  if token=$(curl -fs --max-time 2 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: $TOKEN_TTL" "$IMDS_URL/latest/api/token") && [ -n "$token" ]; then
    renew_at=$((now + TOKEN_TTL / 2))
    return 0
  fi
  token=""
  problem "no IMDSv2 token from $IMDS_URL; retrying"
  return 1
}

# GET a metadata path into $body: 0 for 200, 1 for 404 (nothing announced), 2 for errors.
imds_get() {
  local out code
  [ -n "$token" ] || return 2 # dropped after a 401 earlier in this poll
  out=$(curl -s --max-time 2 -w '\n%{http_code}' -H "X-aws-ec2-metadata-token: $token" "$IMDS_URL/latest/meta-data/$1")
  code="${out##*$'\n'}"
  body="${out%$'\n'*}"
  case "$code" in
    200) return 0 ;;
    404) return 1 ;;
    401) token="" ;;
  esac
  problem "metadata $1 answered HTTP $code; retrying"
  return 2
}

on_termination() {
  if [ -n "$handled" ] || [ -e "$MARKER" ]; then return 0; fi
  handled=1
  { mkdir -p "$STATE_DIR" && date -u +%FT%TZ > "$MARKER"; } || log "cannot write $MARKER"
  log "termination detected ($1${2:+: $2}): running $HANDLER"
  "$HANDLER" "$1" || log "termination handler exited with status $?"
}

log "watching $IMDS_URL every ${POLL_INTERVAL}s"
while :; do
  if ensure_token; then
    healthy=1 reason="" notice=""
    imds_get spot/instance-action
    case $? in
      0) reason=spot-interruption notice="$body" ;;
      2) healthy="" ;;
    esac
    imds_get autoscaling/target-lifecycle-state
    case $? in
      0) [ "$body" != "Terminated" ] || [ -n "$reason" ] || reason=scale-in ;;
      2) healthy="" ;;
    esac
    if [ -n "$healthy" ] && [ -n "$last_problem" ]; then
      log "metadata service answers again"
      last_problem=""
    fi
    [ -z "$reason" ] || on_termination "$reason" "$notice"
  fi
  sleep "$POLL_INTERVAL"
done
