#!/usr/bin/env bash
# Applies the application settings gitlab.rb cannot hold (e.g. no password sign-in for SSO
# users). Runs after reconfigure: by the EC2 bootstrap, and in the GitLab container as its
# GITLAB_POST_RECONFIGURE_SCRIPT. Idempotent.
set -euo pipefail

readonly SETTINGS=/etc/gitlab/application-settings.rb

if [ ! -s "$SETTINGS" ]; then
  echo "gitlab-apply-settings: no $SETTINGS, nothing to apply"
  exit 0
fi
gitlab-rails runner "$SETTINGS"
