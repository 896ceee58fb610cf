#!/usr/bin/env bash
# Back up GridCase: a PostgreSQL custom-format dump plus the media folder, into one dated folder.
# Usage: DATABASE_URL=postgres://… MEDIA_ROOT=/var/lib/gridcase/media deploy/backup.sh /backups
set -euo pipefail
dest=${1:?usage: backup.sh DEST_DIR}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out="$dest/gridcase-$stamp"
mkdir -p "$out"
pg_dump --format=custom --no-owner --dbname="${DATABASE_URL:?set DATABASE_URL}" --file="$out/db.dump"
if [[ -n "${MEDIA_ROOT:-}" && -d "$MEDIA_ROOT" ]]; then
  tar -C "$MEDIA_ROOT" -czf "$out/media.tar.gz" .
fi
# Keep the encryption key with the backup's owner, not in it: without FIELD_ENCRYPTION_KEY the residents'
# phone and ID numbers in the dump cannot be read.
echo "$out"
