#!/bin/sh
# Entry point of the runner containers (runs as root): writes config.toml from its template
# with the runner token read from RUNNER_TOKEN_FILE (a root-only file the `<env>-gitlab` stack
# uploads from its gitlab_user_runner's token: never in the image or the repo), then hands over
# to the image's own entry point. A new token (a replaced gitlab_user_runner) is a new upload,
# which replaces the container: this runs again with it.
#
# The RUNNER_ENTRYPOINT_* variables exist for the tests only; their defaults are the image's.
set -eu

config_dir="${RUNNER_ENTRYPOINT_CONFIG_DIR:-/etc/gitlab-runner}"
exec_target="${RUNNER_ENTRYPOINT_EXEC:-/usr/bin/dumb-init /entrypoint}"
template="$config_dir/config.toml.template"
config="$config_dir/config.toml"

token_file="${RUNNER_TOKEN_FILE:?RUNNER_TOKEN_FILE is not set: the file holding the runner authentication token}"
if [ ! -r "$token_file" ] || [ -d "$token_file" ]; then
  echo "runner-entrypoint: cannot read the runner token from $token_file: the \`-gitlab\` stack uploads it (npm run deploy -- <env>)" >&2
  exit 1
fi
RUNNER_TOKEN=$(tr -d ' \t\r\n' < "$token_file")
if [ -z "$RUNNER_TOKEN" ]; then
  echo "runner-entrypoint: $token_file is empty: the \`-gitlab\` stack uploads the gitlab_user_runner's token there" >&2
  exit 1
fi
case "$RUNNER_TOKEN" in
  *[!A-Za-z0-9_.-]*)
    echo "runner-entrypoint: $token_file holds characters a runner token never has" >&2
    exit 1
    ;;
esac

umask 077
sed -e "s|@@RUNNER_TOKEN@@|$RUNNER_TOKEN|" -e "s|{hostname}|$(hostname)|" "$template" > "$config.tmp"
if grep -q "@@" "$config.tmp"; then
  echo "runner-entrypoint: a placeholder is left in config.toml" >&2
  exit 1
fi
mv "$config.tmp" "$config"

unset RUNNER_TOKEN
# shellcheck disable=SC2086 # a command and its arguments, split on spaces
exec $exec_target "$@"
