#!/usr/bin/env bash
# Restore a backup made by backup.sh into an empty database (and media folder).
# Usage: DATABASE_URL=postgres://… MEDIA_ROOT=/var/lib/gridcase/media deploy/restore.sh /backups/gridcase-…
set -euo pipefail
src=${1:?usage: restore.sh BACKUP_DIR}
pg_restore --no-owner --exit-on-error --dbname="${DATABASE_URL:?set DATABASE_URL}" "$src/db.dump"
if [[ -f "$src/media.tar.gz" && -n "${MEDIA_ROOT:-}" ]]; then
  mkdir -p "$MEDIA_ROOT" && tar -C "$MEDIA_ROOT" -xzf "$src/media.tar.gz"
fi
echo "restored from $src"
