#!/bin/sh
# Entry point of the runner containers: writes config.toml from its template with the
# runner token taken from the environment (never from a file in the image or the repo),
# then hands over to the image's own entry point.
set -eu

template=/etc/gitlab-runner/config.toml.template
config=/etc/gitlab-runner/config.toml

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
exec /usr/bin/dumb-init /entrypoint "$@"
