# syntax=docker/dockerfile:1
#
# attrition worker image: a small, non-root, two-stage build on python:3.11-slim.
#
#   docker build -t attrition:latest .
#   docker run --rm -e ATTRITION_BROKER=kafka://broker:9092 attrition:latest          # worker
#   docker run --rm -v "$PWD/samples:/samples:ro" -e ATTRITION_BROKER=kafka://broker:9092 \
#       attrition:latest publish --input /samples/reports.jsonl                        # producer
#
# Production installs leave out the `embedded` extra (the embedded Tansu broker): the image
# always talks to a real Kafka cluster named by ATTRITION_BROKER.

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------------------------------------
# build: install the project and its dependencies into a self-contained virtualenv.
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Metadata first, sources second: the dependency layer is rebuilt only when they change.
COPY pyproject.toml README.md ./
COPY services ./services

# rocksdict is the RocksDB binding faust-streaming uses for ATTRITION_STORE=rocksdb://
# (faust-streaming's own `rocksdict` extra); the worker image always carries it.
RUN pip install --upgrade pip wheel \
 && pip install . "rocksdict>=0.3.11,<4" \
 && attrition --help > /dev/null

# ---------------------------------------------------------------------------------------------
# runtime: the virtualenv, a non-root user and a writable /data for tables and locks.
# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="attrition" \
      org.opencontainers.image.description="Event-driven ingestion of combat-loss reports into loss, delta and alert events on Kafka" \
      org.opencontainers.image.licenses="MIT"

ARG UID=10001
ARG GID=10001
RUN groupadd --system --gid ${GID} attrition \
 && useradd --system --uid ${UID} --gid ${GID} --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin attrition \
 && mkdir -p /data \
 && chown ${UID}:${GID} /data

COPY --from=build /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ATTRITION_DATA_DIR=/data \
    ATTRITION_WEB_HOST=0.0.0.0 \
    ATTRITION_WEB_PORT=6066

WORKDIR /data
VOLUME ["/data"]
USER ${UID}:${GID}

EXPOSE 6066

# No curl in the slim image: python's urllib does the probe. Any non-2xx answer raises,
# so the container turns unhealthy while /health does not answer 200.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('ATTRITION_WEB_PORT', '6066'), timeout=4)"]

ENTRYPOINT ["attrition"]
CMD ["worker"]
