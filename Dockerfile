# One image for web, worker, beat and the migrate job (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEDIA_ROOT=/data/media

# Bulletins are Chinese PDFs rendered by WeasyPrint: Pango, HarfBuzz's subsetter (without it
# WeasyPrint falls back to a 7× slower one) and the CJK fonts (audits/rendering/fonts.py).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk fonts-hanazono libpango-1.0-0 \
    libpangoft2-1.0-0 libharfbuzz-subset0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

# The code stays root-owned and read-only to the app; only media and var/ are writable. The
# media directory exists in the image so a fresh named volume inherits its owner.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home app \
 && mkdir -p /data/media /app/var \
 && chown app:app /data/media /app/var
COPY . .

USER app
EXPOSE 8000
# gunicorn reads /app/gunicorn.conf.py (its limits, problem+json refusals) from WORKDIR.
CMD ["gunicorn", "server.wsgi", "-b", "0.0.0.0:8000", "-w", "4"]
