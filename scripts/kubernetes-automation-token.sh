#!/usr/bin/env bash
# The automation token on the kubernetes platform, run by an operator with kubectl (the
# current context): the Ruby the first stack put in the ConfigMap gitlab-automation-token-script
# runs in the chart's toolbox (gitlab-rails runner), and a new token goes into the Secret
# gitlab-automation-token (key 'token'), where the second stack reads it.
#
#   scripts/kubernetes-automation-token.sh <namespace>            first token, or renewal when due
#   scripts/kubernetes-automation-token.sh <namespace> --rotate   a new token now, every other one revoked
#
# The stored token reaches the toolbox on stdin, a new one comes back on stdout and goes into
# the Secret through a root-only temporary file: neither is ever an argument or printed.
# KUBECTL names another kubectl (e.g. "kubectl --context staging"). @default kubectl
set -Eeuo pipefail

readonly SECRET=gitlab-automation-token
readonly SCRIPT_CONFIGMAP=gitlab-automation-token-script
readonly TOOLBOX=deploy/gitlab-toolbox
readonly LINE_PREFIX="automation-token "

log() { echo "kubernetes-automation-token: $*" >&2; }
fail() { log "$*"; exit 1; }
trap 'log "FAILED at step: $step"' ERR
step="start"

namespace="${1:-}"
rotate=0
case "${2:-}" in
  "") ;;
  --rotate) rotate=1 ;;
  *) fail "usage: kubernetes-automation-token.sh <namespace> [--rotate]" ;;
esac
[ -n "$namespace" ] || fail "usage: kubernetes-automation-token.sh <namespace> [--rotate]"
read -r -a kubectl <<< "${KUBECTL:-kubectl}"
k() { "${kubectl[@]}" --namespace "$namespace" "$@"; }

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step="read the script and the stored token"
k get configmap "$SCRIPT_CONFIGMAP" -o 'jsonpath={.data.automation-token\.rb}' > "$work/script.rb"
[ -s "$work/script.rb" ] || fail "the ConfigMap $SCRIPT_CONFIGMAP in $namespace has no automation-token.rb: deploy the first stack"
k get secret "$SECRET" --ignore-not-found -o 'jsonpath={.data.token}' | base64 -d > "$work/stored"
[ -s "$work/stored" ] || log "the Secret $SECRET holds no token yet"

step="ensure the token in GitLab (the toolbox)"
# shellcheck disable=SC2016 # expanded by the toolbox's shell, not this one
k exec -i "$TOOLBOX" -c toolbox -- sh -c 'AUTOMATION_TOKEN_STORED="$(cat)" AUTOMATION_TOKEN_ROTATE="$1" exec gitlab-rails runner "$2"' \
  sh "$rotate" "$(cat "$work/script.rb")" < "$work/stored" > "$work/out"
sed -n "s/^$LINE_PREFIX//p" "$work/out" | tail -n 1 | tr -d '\r\n' > "$work/new"
if [ ! -s "$work/new" ]; then
  log "the stored token is still good; the Secret is unchanged"
  exit 0
fi

step="store the new token in the Secret $SECRET"
k create secret generic "$SECRET" --from-file=token="$work/new" --dry-run=client -o yaml > "$work/secret.yaml"
k apply -f "$work/secret.yaml" > /dev/null
log "stored a new token in the Secret $SECRET in $namespace"
