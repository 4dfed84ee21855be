FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml constraints.txt ./
# postgresql-client gives pg_dump/pg_restore for manage.py backup_database and restore_database.
# Debian bookworm ships major 15; pg_dump must be at least the server's major version, so for a
# newer server install postgresql-client-<N> from apt.postgresql.org and set
# PG_BIN_DIR=/usr/lib/postgresql/<N>/bin.
RUN pip install -c constraints.txt . \
    && apt-get update && apt-get install -y --no-install-recommends postgresql-client curl \
    && rm -rf /var/lib/apt/lists/*

COPY . .
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input \
    && useradd --create-home --uid 10001 app && chown -R app /app \
    && mkdir -p /var/backups/procurement && chown app /var/backups/procurement
USER app
# Mount persistent storage here (or set BACKUP_DIR): dumps in the container's layer die with it.
ENV BACKUP_DIR=/var/backups/procurement

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
# One image, three roles (docs/operations.md, "Production layout"):
#   web:    the default command (gunicorn), N replicas behind the load balancer;
#   worker: python manage.py db_worker --queue-name '*'  (M replicas, no port; stop with SIGTERM:
#           the worker finishes its current task first);
#   jobs:   python manage.py <command> from a scheduler (nightly recalculate_reorder_points and
#           backup_database, enqueue_integration_maintenance every few minutes).
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
