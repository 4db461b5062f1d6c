# One image for web (gunicorn + whitenoise), worker and beat; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=helpdesk.settings.production \
    MEDIA_ROOT=/app/media

WORKDIR /app
RUN useradd --create-home --uid 1000 helpdesk

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files (the project's own and those shipped in packages, such as htmx) are collected
# into the image, hashed and compressed for whitenoise; the key only lets settings load here.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown helpdesk /app/media

USER helpdesk
EXPOSE 8000
CMD ["gunicorn", "-c", "python:helpdesk.gunicorn_conf"]
