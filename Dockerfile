# Offboard's app image for the scale-out deployment (docker-compose.yml; docs/deploy.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OFFBOARD_HOME=/data \
    OFFBOARD_HOST=0.0.0.0 \
    OFFBOARD_PORT=8000

# An unprivileged user owns only /data (keys folder); the code stays root-owned and read-only to it.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin offboard \
    && install -d -o offboard -g offboard -m 0700 /data

WORKDIR /app

# Pinned dependencies first, in their own layer, so code changes do not reinstall them.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml ./
COPY vault ./vault
COPY signing ./signing
COPY storage ./storage
COPY api ./api
COPY templates ./templates
# Editable, like `make run`; templates/ is a package (its jinja2 renderer and the files it reads), so a
# regular install would carry it too. --no-deps: every dependency is already installed from the lock file.
RUN pip install --no-deps -e .

USER offboard
VOLUME ["/data"]
EXPOSE 8000

# `offboard init` is idempotent: it migrates the database and prints an admin token only on the first run.
CMD ["sh", "-c", "offboard init && exec offboard serve --host 0.0.0.0"]
