#!/bin/sh
# Stops and removes the containers deploy/podman-up.sh started (same PROJECT and PODMAN). The media volume
# stays; `podman volume rm $PROJECT-media` deletes the uploaded photos with it.
set -eu
PROJECT=${PROJECT:-gridcase}
PODMAN=${PODMAN:-podman}
for name in web worker-urgent worker-bulk beat migrate; do
  if $PODMAN container exists "$PROJECT-$name"; then
    $PODMAN rm -f -t 20 "$PROJECT-$name" >/dev/null && echo "removed $PROJECT-$name"
  fi
done
