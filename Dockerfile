# Production image: gunicorn web, Celery worker and beat all run from this one image.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt  # what runs; not requirements-dev.txt
COPY manage.py ./
COPY portal portal
COPY accounts accounts
COPY projects projects
COPY keys keys
COPY storage storage
COPY buckets buckets
COPY heartbeats heartbeats
COPY lifecycle lifecycle
COPY usage usage
COPY web web
COPY api api
COPY templates templates
COPY static static
RUN LATCHKEY_DEBUG=false LATCHKEY_SECRET_KEY=build-only LATCHKEY_OIDC_PRIVATE_KEY=build-only \
    LATCHKEY_STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput -v 0
RUN useradd --system --uid 10001 latchkey \
    && install -d -o latchkey /var/lib/latchkey-metrics  # the metrics volume takes this owner
USER latchkey
EXPOSE 8000
CMD ["gunicorn", "-c", "python:portal.gunicorn_conf", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
