# The bot in HTTP mode (POST /slack/events, GET /healthz on PORT 3000), run as a non-root user.
#
#   docker build -t transferbot .                                   # python:3.11-slim-bookworm
#   podman build --format docker --build-arg BASE_IMAGE=localhost/transferbot-base:… -t transferbot .
#
# BASE_IMAGE needs python3 (3.11, the Python requirements.lock was resolved for) with the venv
# module, CA certificates, useradd/groupadd and /bin/sh. CI builds it with debootstrap (Debian
# bookworm: python3, python3-venv, ca-certificates), because Docker Hub can't be reached there; see
# .ci/container-check. With podman, pass --format docker or HEALTHCHECK is dropped (OCI images have none).
ARG BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm
FROM ${BASE_IMAGE}

LABEL org.opencontainers.image.title="genesys-transfer-bot" \
      org.opencontainers.image.description="Slack /transfer bot for Genesys Cloud"

ENV LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH \
    HOST=0.0.0.0 \
    PORT=3000

RUN groupadd --gid 10001 bot \
 && useradd --uid 10001 --gid bot --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin bot

# Dependencies first (their layer is reused until requirements.lock changes): exact versions, each
# file checked against the lock's hashes. Behind a TLS-inspecting proxy, pass its CA bundle as the
# optional build secret pip_ca (--secret id=pip_ca,src=/etc/ssl/certs/ca-certificates.crt); it is
# used for this download only and is not stored in the image.
COPY requirements.lock /tmp/src/
RUN --mount=type=secret,id=pip_ca \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi \
 && python3 -m venv /opt/venv \
 && pip install --no-deps --require-hashes -r /tmp/src/requirements.lock

# The bot package itself, from the wheels above only: --no-index fails the build if pyproject.toml
# asks for something requirements.lock doesn't pin (run `make lock`).
COPY pyproject.toml /tmp/src/
COPY bot /tmp/src/bot
RUN pip install --no-index --no-build-isolation /tmp/src \
 && pip check \
 && rm -rf /tmp/src

WORKDIR /app
COPY app.py ./

# Code and venv belong to root and are read-only for the bot. DATABASE_URL must point at PostgreSQL:
# the default SQLite file in the working directory can't be written here, and would be lost with the
# container anyway (see README, "Deploying it").
USER 10001:10001
EXPOSE 3000

# Liveness only: /healthz answers 200 while the HTTP server is serving (readiness is /readyz's job).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

# Exec form: python is PID 1 and receives SIGTERM itself; app.py closes the HTTP server and the
# worker pools on SIGTERM and exits with status 0.
STOPSIGNAL SIGTERM
CMD ["python3", "app.py", "--http"]
