#!/usr/bin/env bash
# Puts the runner's authentication token from Secrets Manager into config.toml, and keeps it
# current (aws: the cpu fleet's runners and the jobs-mode manager).
#   runner-token-sync --wait   once, from the bootstrap: the secret may have no version yet (the
#                              `<env>-gitlab` stack writes it after this stack's instances boot),
#                              so it waits for one, at most TOKEN_WAIT_SECONDS, then writes.
#   runner-token-sync          every few minutes (runner-token-sync.timer): when the secret has a
#                              new version (the stack replaced its gitlab_user_runner: a rotated
#                              token), rewrites config.toml and has gitlab-runner reload it
#                              (SIGHUP: running jobs go on; the next job request uses the new token).
# Why not an instance refresh on a new version: the version is written by the second stack, the
# groups belong to the first (no stack reaches into the other's resources), a refresh would
# stop running jobs on every runner, and the jobs-mode manager is a single instance.
# The token goes to the root-only config file only: never to argv, the log or the journal.
set -Eeuo pipefail

# Tests run this against a scratch tree: BOOTSTRAP_ROOT (empty on the host) prefixes every path.
readonly ROOT="${BOOTSTRAP_ROOT:-}"
readonly CONFIG="$ROOT/etc/gitlab-runner-fleet/bootstrap.env"
readonly STATE_DIR="$ROOT/var/lib/runner-fleet"
readonly RUNNER_ETC="$ROOT/etc/gitlab-runner"
# The version of the secret config.toml holds now.
readonly VERSION_FILE="$STATE_DIR/token-version"
# 30 minutes: long enough for the `<env>-gitlab` stack's apply that follows this stack's.
readonly WAIT_SECONDS="${TOKEN_WAIT_SECONDS:-1800}"
readonly POLL_SECONDS="${TOKEN_POLL_SECONDS:-30}"
readonly SCRIPT_NAME="runner-token-sync"

# log, aws_api and require_settings (inlined in the user data).
# shellcheck source-path=SCRIPTDIR source=lib/preamble.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.sh"

# The current version's id and value, tab-separated, into a file (never through argv).
fetch() { # <file>
  aws_api secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$TOKEN_SECRET_ID" \
    --query '[VersionId,SecretString]' --output text > "$1"
}

# shellcheck source=/dev/null
. "$CONFIG"
require_settings "$CONFIG" AWS_REGION TOKEN_SECRET_ID

umask 077
mkdir -p "$STATE_DIR"
readonly ANSWER="$RUNNER_ETC/token.tmp" ERRORS="$STATE_DIR/token-sync.err"
trap 'rm -f "$ANSWER" "$RUNNER_ETC/config.toml.new"' EXIT

if [ "${1:-}" = "--wait" ]; then
  # The clock is the time slept, so the bound holds however long each call takes to fail.
  waited=0
  until fetch "$ANSWER" 2> "$ERRORS"; do
    if [ "$waited" -ge "$WAIT_SECONDS" ]; then
      log "no readable version of the runner token after ${WAIT_SECONDS}s ($(tail -n 1 "$ERRORS")); is the \`-gitlab\` stack applied?"
      exit 1
    fi
    log "waiting for the runner token (the \`-gitlab\` stack writes it): $(tail -n 1 "$ERRORS"); next try in ${POLL_SECONDS}s"
    sleep "$POLL_SECONDS"
    waited=$((waited + POLL_SECONDS))
  done
else
  fetch "$ANSWER" 2> "$ERRORS" || { log "could not read the runner token: $(tail -n 1 "$ERRORS"); the next run tries again"; exit 1; }
fi

IFS=$'\t' read -r version token < "$ANSWER" || true
rm -f "$ANSWER"
if [ -f "$RUNNER_ETC/config.toml" ] && [ "$version" = "$(cat "$VERSION_FILE" 2> /dev/null)" ]; then
  exit 0
fi
[[ "$token" =~ ^[A-Za-z0-9_.-]+$ && "$token" != None ]] || { log "version $version of the runner token secret is empty or not a token; config.toml unchanged"; exit 1; }
config=$(< "$RUNNER_ETC/config.toml.template")
config="${config//@@RUNNER_TOKEN@@/$token}"
config="${config//\{hostname\}/$(hostname -s)}"
unset token
[[ "$config" != *@@* ]] || { log "a placeholder is left in config.toml"; exit 1; }
printf '%s\n' "$config" > "$RUNNER_ETC/config.toml.new"
unset config
chmod 0600 "$RUNNER_ETC/config.toml.new"
mv "$RUNNER_ETC/config.toml.new" "$RUNNER_ETC/config.toml"
printf '%s\n' "$version" > "$VERSION_FILE"
if [ "${1:-}" = "--wait" ]; then
  log "config.toml has version $version of the runner token"
else
  # A graceful reload: the runner keeps its running jobs and asks for new ones with the new token.
  systemctl kill --signal=SIGHUP --kill-whom=main gitlab-runner.service
  log "config.toml has version $version of the runner token; gitlab-runner reloads it"
fi
