FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
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
USER nobody
EXPOSE 8000
CMD ["gunicorn", "inservice.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "60"]
