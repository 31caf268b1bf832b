FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build-only NATIONAL_ID_HMAC_KEY=build NATIONAL_ID_FERNET_KEY=ZGVtby1vbmx5LW5hdGlvbmFsLWlkLWZlcm5ldC1rZXk= \
    python manage.py collectstatic --noinput
USER nobody
EXPOSE 8000
CMD ["gunicorn", "inservice.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4", "--timeout", "60"]
