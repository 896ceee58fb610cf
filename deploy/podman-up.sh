#!/bin/sh
# The services of deploy/compose.yaml run by podman, daemonless, without a container registry: the image from
# deploy/Containerfile.debian (`make image`), PostgreSQL and Redis from the host (or anywhere DATABASE_URL and
# CELERY_BROKER_URL/CACHE_URL point), nginx left to the host (Debian's nginx with deploy/nginx.conf).
# Starts: migrate (once, then gone), web (gunicorn), worker-urgent, worker-bulk, beat (exactly one).
#   deploy/podman-up.sh [env-file]          # default deploy/.env (from deploy/env.example)
#   deploy/podman-down.sh                   # stops and removes them (the media volume stays)
# Environment: IMAGE (localhost/gridcase:debian), PROJECT (gridcase: container-name prefix), NETWORK (host),
# PODMAN (podman; e.g. "podman --runtime runc"), PODMAN_RUN_OPTS (extra `podman run` flags, e.g. ulimits),
# READY_URL (http://127.0.0.1:8000/readyz; follow GUNICORN_BIND from the env file).
set -eu
ENV_FILE=${1:-deploy/.env}
IMAGE=${IMAGE:-localhost/gridcase:debian}
PROJECT=${PROJECT:-gridcase}
NETWORK=${NETWORK:-host}
PODMAN=${PODMAN:-podman}
PODMAN_RUN_OPTS=${PODMAN_RUN_OPTS:-}
READY_URL=${READY_URL:-http://127.0.0.1:8000/readyz}
[ -f "$ENV_FILE" ] || { echo "missing $ENV_FILE (copy deploy/env.example and set the secrets)" >&2; exit 2; }

$PODMAN volume exists "$PROJECT-media" || $PODMAN volume create "$PROJECT-media" >/dev/null

# shellcheck disable=SC2086  # PODMAN and PODMAN_RUN_OPTS are word lists on purpose
run() {  # run <name> [podman run flags…] -- <command…>: one long-running service, like compose's restart policy
  name=$1; shift
  $PODMAN run -d --name "$PROJECT-$name" --label "io.gridcase.project=$PROJECT" --network "$NETWORK" \
    --env-file "$ENV_FILE" -v "$PROJECT-media:/var/lib/gridcase/media" --restart unless-stopped \
    $PODMAN_RUN_OPTS "$IMAGE" "$@" >/dev/null
  echo "started $PROJECT-$name"
}

# shellcheck disable=SC2086
$PODMAN run --rm --name "$PROJECT-migrate" --network "$NETWORK" --env-file "$ENV_FILE" $PODMAN_RUN_OPTS "$IMAGE" \
  python manage.py migrate --noinput
run web gunicorn gridcase.wsgi:application --config deploy/gunicorn.conf.py
# Workers by queue, as in compose.yaml and k8s (deploy/README.md, "Queues").
run worker-urgent celery -A gridcase worker -Q notifications,sla -n "urgent@$PROJECT" --loglevel=INFO --concurrency=2
run worker-bulk celery -A gridcase worker -Q celery,rollups,imports,exports -n "bulk@$PROJECT" --loglevel=INFO \
  --concurrency=2
# Exactly one beat per deployment.
run beat celery -A gridcase beat --loglevel=INFO --schedule=/tmp/celerybeat-schedule

i=0
until curl -fsS "$READY_URL" >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -ge 60 ]; then
    echo "web not ready at $READY_URL after 60 s; logs: $PODMAN logs $PROJECT-web" >&2
    exit 1
  fi
  sleep 1
done
echo "ready: $READY_URL"
