#!/usr/bin/env bash
# Keeps GitLab's identity on the data volume, which outlives the instance, so a replaced
# instance (new GitLab version, new gitlab.rb) is the same GitLab:
#   - /etc/gitlab/gitlab-secrets.json: the keys to everything GitLab encrypts in its
#     database (CI/CD variables, 2FA secrets, runner tokens). A fresh one on an existing
#     database makes all of that unreadable;
#   - /etc/ssh/ssh_host_*: git over SSH is served by the host's sshd; new host keys make
#     every developer's `git push` stop at a "host key changed" warning.
#
#   restore  before `gitlab-ctl reconfigure`: put back what an earlier instance kept.
#            Refuses (exit 1) when the volume already holds GitLab data but no kept
#            secrets: reconfigure would generate new ones and orphan the encrypted data.
#   save     after reconfigure: keep the current files (atomically; readable by root only).
set -euo pipefail

DATA_DIR="${DATA_DIR:-/var/opt/gitlab}"
KEEP_DIR="${KEEP_DIR:-$DATA_DIR/gitlab-platform-identity}"
GITLAB_ETC="${GITLAB_ETC:-/etc/gitlab}"
SSH_ETC="${SSH_ETC:-/etc/ssh}"
readonly SECRETS=gitlab-secrets.json

log() { echo "gitlab-keep-identity: $*"; }

restore() {
  if [ -s "$KEEP_DIR/$SECRETS" ]; then
    install -m 0600 "$KEEP_DIR/$SECRETS" "$GITLAB_ETC/$SECRETS"
    log "restored $GITLAB_ETC/$SECRETS from the data volume"
  elif [ -s "$GITLAB_ETC/$SECRETS" ]; then
    # A bootstrap re-run on the instance that generated it, before it could be saved.
    log "keeping this instance's own $GITLAB_ETC/$SECRETS"
  elif [ -d "$DATA_DIR/git-data" ] || [ -d "$DATA_DIR/gitlab-rails" ]; then
    log "the data volume holds GitLab data but no kept $SECRETS."
    log "Put the instance's $SECRETS at $KEEP_DIR/$SECRETS (from the config/ archive in the"
    log "backup bucket: tar -xzf gitlab-config-<time>.tar.gz $SECRETS), then run the bootstrap again."
    return 1
  else
    log "first boot on this data volume: GitLab will generate $SECRETS"
  fi

  local keys=("$KEEP_DIR"/ssh/ssh_host_*)
  if [ -e "${keys[0]}" ]; then
    cp -p "${keys[@]}" "$SSH_ETC/"
    log "restored ${#keys[@]} SSH host key files; restart sshd to serve them"
  fi
}

save() {
  [ -s "$GITLAB_ETC/$SECRETS" ] || { log "no $GITLAB_ETC/$SECRETS to keep"; return 1; }
  install -d -m 0700 "$KEEP_DIR" "$KEEP_DIR/ssh"
  install -m 0600 "$GITLAB_ETC/$SECRETS" "$KEEP_DIR/$SECRETS.new"
  mv "$KEEP_DIR/$SECRETS.new" "$KEEP_DIR/$SECRETS"
  local keys=("$SSH_ETC"/ssh_host_*)
  if [ -e "${keys[0]}" ]; then
    cp -p "${keys[@]}" "$KEEP_DIR/ssh/"
  fi
  log "kept $SECRETS and the SSH host keys in $KEEP_DIR"
}

case "${1:-}" in
  restore) restore ;;
  save) save ;;
  *)
    echo "usage: gitlab-keep-identity restore|save" >&2
    exit 2
    ;;
esac
