#!/bin/sh
# Makes the base image for deploy/Containerfile.debian from Debian packages only (no container registry):
# a debootstrap "minbase" Debian bookworm root filesystem, imported into podman as localhost/gridcase-base:bookworm.
# Needs root, debootstrap and podman (all from Debian). Usage: deploy/base-image.sh [mirror]
set -eu
MIRROR=${1:-http://deb.debian.org/debian}
SUITE=${SUITE:-bookworm}
IMAGE=${BASE_IMAGE:-localhost/gridcase-base:$SUITE}
ROOTFS=$(mktemp -d "${TMPDIR:-/tmp}/gridcase-rootfs.XXXXXX")
trap 'rm -rf "$ROOTFS"' EXIT

debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$MIRROR"
# Security updates and the point-release updates, like the official debian images.
cat > "$ROOTFS/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb http://deb.debian.org/debian-security $SUITE-security main
SOURCES
# Keep the image small: no apt caches, no man pages or docs in later layers either.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
cat > "$ROOTFS/etc/dpkg/dpkg.cfg.d/01-nodoc" <<'NODOC'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
NODOC
tar -C "$ROOTFS" -c . | podman import --change 'CMD ["/bin/bash"]' - "$IMAGE"
podman image inspect --format '{{.Id}} {{.Size}}' "$IMAGE"
