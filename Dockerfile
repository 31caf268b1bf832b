FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# The CJK font of every PDF (研習證明, 說明手冊; core.fonts looks it up) and the PostgreSQL client
# for `make backup` / `make restore` run inside the image (docs/operations.md).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk postgresql-client make \
    && rm -rf /var/lib/apt/lists/*
# An up-to-date pip and setuptools first (pinned with hashes), then the runtime dependencies only:
# requirements-runtime.lock is pyproject.toml without the dev extra (no pytest, playwright, ruff…),
# at the versions of requirements.lock (see the command at the top of each lock file).
COPY requirements-build.lock requirements-runtime.lock ./
RUN python -m pip install --require-hashes -r requirements-build.lock \
    && python -m pip install --require-hashes --no-deps -r requirements-runtime.lock \
    && python -m pip check
COPY . .
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only NATIONAL_ID_HMAC_KEY=build NATIONAL_ID_FERNET_KEY=ZGVtby1vbmx5LW5hdGlvbmFsLWlkLWZlcm5ldC1rZXk= \
    python manage.py collectstatic --noinput
# The media root (a volume shared by web and worker) and the state folder (beat's schedule) are
# the only places the application writes; both belong to the image's user, and a named volume
# mounted on them starts with this ownership.
ENV DJANGO_MEDIA_ROOT=/srv/inservice/media INSERVICE_STATE_DIR=/srv/inservice/state
RUN mkdir -p /srv/inservice/media/transient /srv/inservice/state \
    && chown -R nobody:nogroup /srv/inservice
USER nobody
EXPOSE 8000
CMD ["gunicorn", "inservice.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "60"]
