#!/usr/bin/env bash
# Make the root file system of skiff-base:bookworm without any image registry:
# a minimal Debian bookworm with Python 3, trimmed of documentation and package caches.
# Usage: make-base-rootfs.sh DIR MIRROR   (MIRROR: the bookworm mirror apt uses here)   (as root; then `tar -C DIR -c . | docker import - skiff-base:bookworm`)
set -euo pipefail
dir=${1:?usage: make-base-rootfs.sh DIR MIRROR}
mirror=${2:?usage: make-base-rootfs.sh DIR MIRROR}

debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$dir" "$mirror"

# Nothing in a task container reads these; dropping them keeps the image small.
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
       "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* \
       "$dir"/var/log/* "$dir"/tmp/* "$dir"/debootstrap
find "$dir"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} +
