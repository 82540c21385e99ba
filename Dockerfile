# crs-cds: production image. Authentication is required here (no development mode): mount a trusted-issuer
# file and set CRS_CDS_TRUSTED_ISSUERS_FILE and CRS_CDS_PUBLIC_BASE_URL (README "Configuration", docs/DEPLOY.md).
# The package is installed as a wheel, pinned by requirements.lock; the wheel carries cards/ (setup.py) and the
# CRS timeline app's bundle, built in the first stage from smart-app/ (npm packages pinned by its lock file).
FROM node:20-bookworm-slim AS app
WORKDIR /build
COPY smart-app/package.json smart-app/package-lock.json smart-app/
RUN cd smart-app && npm ci --no-audit --no-fund --loglevel=error
COPY smart-app smart-app
RUN cd smart-app && npm run build --silent

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CRS_CDS_DATABASE_URL=sqlite:////var/lib/crs-cds/crs-cds.sqlite3 \
    PORT=8080 \
    WORKERS=1

WORKDIR /src
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE CHANGELOG.md requirements.lock ./
COPY cds_service ./cds_service
COPY --from=app /build/cds_service/web/static ./cds_service/web/static
COPY cards ./cards
RUN pip install -c requirements.lock . \
    && rm -rf /src \
    && useradd --system --uid 10001 --home-dir /var/lib/crs-cds crs \
    && mkdir -p /var/lib/crs-cds \
    && chown crs /var/lib/crs-cds

WORKDIR /var/lib/crs-cds
USER crs
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import os,urllib.request,sys; sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=2).status == 200 else 1)"
# Migrations first (idempotent; serialised by an advisory lock on PostgreSQL), then the server.
CMD ["sh", "-c", "crs-cds db upgrade && exec crs-cds serve --host 0.0.0.0 --port \"$PORT\" --workers \"$WORKERS\""]
