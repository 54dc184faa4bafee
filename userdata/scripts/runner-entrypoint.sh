#!/bin/sh
# Entry point of the runner containers (runs as root): writes config.toml from its template
# with the runner token taken from the environment (never from a file in the image or the
# repo), then hands over to the image's own entry point.
#
# The RUNNER_ENTRYPOINT_* variables exist for the tests only; their defaults are the image's.
set -eu

config_dir="${RUNNER_ENTRYPOINT_CONFIG_DIR:-/etc/gitlab-runner}"
exec_target="${RUNNER_ENTRYPOINT_EXEC:-/usr/bin/dumb-init /entrypoint}"
template="$config_dir/config.toml.template"
config="$config_dir/config.toml"

: "${RUNNER_TOKEN:?RUNNER_TOKEN is not set: pass the runner authentication token as a sensitive variable}"
case "$RUNNER_TOKEN" in
  *[!A-Za-z0-9_.-]*)
    echo "runner-entrypoint: RUNNER_TOKEN contains characters a runner token never has" >&2
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

# The token is in config.toml now: nothing started from here needs it in its environment.
unset RUNNER_TOKEN
# shellcheck disable=SC2086 # a command and its arguments, split on spaces
exec $exec_target "$@"
