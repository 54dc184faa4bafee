#!/usr/bin/env bash
# Bootstraps GitLab Omnibus on an Ubuntu EC2 instance. Run once by cloud-init.
#
# Order matters and every step must succeed: a half-configured GitLab on an unmounted
# data directory would write repositories to the root volume, which dies with the instance.
# Any failure is logged with its step, leaves /var/lib/gitlab-platform/bootstrap.failed and
# exits non-zero, so `cloud-init status` reports an error.
set -Eeuo pipefail

readonly CONFIG=/etc/gitlab-platform/bootstrap.env
readonly SECRETS_LIST=/etc/gitlab-platform/secrets.list
readonly STATE_DIR=/var/lib/gitlab-platform
readonly LOG=/var/log/gitlab-bootstrap.log
readonly DATA_DIR=/var/opt/gitlab

mkdir -p "$STATE_DIR"
exec > >(tee -a "$LOG") 2>&1

step="start"
log() { echo "$(date -u +%FT%TZ) gitlab-bootstrap: $*"; }
on_error() {
  local code=$?
  log "FAILED at step '$step' (exit $code); see $LOG"
  echo "$step" > "$STATE_DIR/bootstrap.failed"
  exit "$code"
}
trap on_error ERR

# shellcheck source=/dev/null
. "$CONFIG"
: "${GITLAB_VERSION:?missing in $CONFIG}" "${DATA_VOLUME_ID:?missing in $CONFIG}" "${AWS_REGION:?missing in $CONFIG}"
rm -f "$STATE_DIR/bootstrap.failed"

step="wait for data volume"
# Nitro instances expose EBS volumes as NVMe devices named after the volume id.
device="/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${DATA_VOLUME_ID//-/}"
for _ in $(seq 1 60); do
  [ -e "$device" ] && break
  [ -e /dev/xvdf ] && device=/dev/xvdf && break
  log "waiting for data volume $DATA_VOLUME_ID to be attached"
  sleep 5
done
[ -e "$device" ] || { log "data volume $DATA_VOLUME_ID never appeared"; false; }

step="format data volume (only if blank)"
# blkid exits 2 when it finds no signature at all: only then is the volume new.
set +e
blkid -p "$device" > /dev/null 2>&1
probe=$?
set -e
if [ "$probe" -eq 2 ]; then
  log "data volume is blank: creating ext4 filesystem"
  mkfs.ext4 -q -L gitlab-data "$device"
elif [ "$probe" -ne 0 ]; then
  log "blkid failed on $device (exit $probe); refusing to touch it"
  false
else
  log "data volume already has a filesystem: keeping it"
fi

step="mount data volume"
uuid=$(blkid -s UUID -o value "$device")
mkdir -p "$DATA_DIR"
if ! grep -q "UUID=$uuid" /etc/fstab; then
  echo "UUID=$uuid $DATA_DIR ext4 defaults,nofail,x-systemd.device-timeout=120 0 2" >> /etc/fstab
fi
mountpoint -q "$DATA_DIR" || mount "$DATA_DIR"
mountpoint -q "$DATA_DIR"

step="install AWS CLI"
if ! command -v aws > /dev/null; then
  snap install aws-cli --classic
  export PATH="/snap/bin:$PATH"
fi

step="start the CloudWatch agent"
# Before GitLab itself, so a bootstrap that fails later still ships its log.
readonly CWAGENT_CONFIG=/etc/gitlab-platform/cloudwatch-agent.json
readonly CWAGENT_CTL=/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
if [ -f "$CWAGENT_CONFIG" ]; then
  command -v rsyslogd > /dev/null || { apt-get update -q && apt-get install -y -q rsyslog; }
  if [ ! -x "$CWAGENT_CTL" ]; then
    # AWS ships the agent for Ubuntu as a .deb in a bucket per region (no apt repository).
    deb=$(mktemp --suffix=.deb)
    curl -fsSL --retry 5 -o "$deb" \
      "https://amazoncloudwatch-agent-$AWS_REGION.s3.$AWS_REGION.amazonaws.com/ubuntu/amd64/latest/amazon-cloudwatch-agent.deb"
    dpkg -i -E "$deb"
    rm -f "$deb"
  fi
  "$CWAGENT_CTL" -a fetch-config -m ec2 -s -c "file:$CWAGENT_CONFIG"
fi

step="fetch secrets"
install -d -m 0700 /etc/gitlab/secrets.d
if [ -s "$SECRETS_LIST" ]; then
  while read -r name arn; do
    [ -n "$name" ] || continue
    log "fetching secret '$name' from Secrets Manager"
    umask 077
    aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$arn" \
      --query SecretString --output text > "/etc/gitlab/secrets.d/$name.tmp"
    [ -s "/etc/gitlab/secrets.d/$name.tmp" ] || { log "secret '$name' is empty"; false; }
    mv "/etc/gitlab/secrets.d/$name.tmp" "/etc/gitlab/secrets.d/$name"
  done < "$SECRETS_LIST"
fi

step="restore GitLab's secrets and SSH host keys from the data volume"
/usr/local/sbin/gitlab-keep-identity restore
# sshd reads host keys when it starts: serve the restored ones.
systemctl try-restart ssh.service

step="add GitLab package repository"
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
install -d -m 0755 /etc/apt/keyrings
curl -fsSL --retry 5 https://packages.gitlab.com/gitlab/gitlab-ce/gpgkey \
  | gpg --dearmor --yes -o /etc/apt/keyrings/gitlab-ce.gpg
echo "deb [signed-by=/etc/apt/keyrings/gitlab-ce.gpg] https://packages.gitlab.com/gitlab/gitlab-ce/ubuntu/ $codename main" \
  > /etc/apt/sources.list.d/gitlab-ce.list
apt-get update -q

step="install gitlab-ce $GITLAB_VERSION"
# We run reconfigure ourselves, after the config and secrets are in place.
touch /etc/gitlab/skip-auto-reconfigure
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "gitlab-ce=$GITLAB_VERSION"
apt-mark hold gitlab-ce

step="gitlab-ctl reconfigure"
gitlab-ctl reconfigure

step="keep GitLab's secrets and SSH host keys on the data volume"
/usr/local/sbin/gitlab-keep-identity save

step="apply application settings"
/usr/local/sbin/gitlab-apply-settings

step="enable host units"
if [ -n "${ENABLE_UNITS:-}" ]; then
  systemctl daemon-reload
  # shellcheck disable=SC2086 # a space-separated list of unit names
  systemctl enable --now $ENABLE_UNITS
fi

step="done"
date -u +%FT%TZ > "$STATE_DIR/bootstrap.done"
log "GitLab $GITLAB_VERSION is configured"
