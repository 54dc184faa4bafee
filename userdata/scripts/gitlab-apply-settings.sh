#!/usr/bin/env bash
# Applies the application settings gitlab.rb cannot hold (e.g. no password sign-in for SSO
# users). Runs after reconfigure: by the EC2 bootstrap, and in the GitLab container as its
# GITLAB_POST_RECONFIGURE_SCRIPT, where it then also ensures the automation token (the
# container's environment names its store). Idempotent.
set -euo pipefail

readonly SETTINGS="${APPLICATION_SETTINGS:-/etc/gitlab/application-settings.rb}"

if [ -s "$SETTINGS" ]; then
  # As code, not as a path: gitlab-rails runs as GitLab's git user, which cannot read this
  # root-only file.
  gitlab-rails runner "$(cat "$SETTINGS")"
else
  echo "gitlab-apply-settings: no $SETTINGS, nothing to apply"
fi

# Not fatal: the container's start would fail with it, and GitLab with it. The daily renewal
# (the backup scheduler's `docker exec`) tries again.
if [ -n "${AUTOMATION_TOKEN_STORE:-}" ]; then
  gitlab-automation-token || echo "gitlab-apply-settings: WARNING the automation token could not be ensured (exit $?); the daily renewal retries"
fi
