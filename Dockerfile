# BMS Hub container image: one process, one port (8080: HTTP, and MQTT over WebSocket at /mqtt).
#
#   docker build -t bms-hub .
#   docker run -d --name bms-hub --network host -v bms-hub-data:/data bms-hub
#
# python:*-slim is multi-arch (amd64, arm64, arm/v7), so the same file builds on a Raspberry Pi.
# Data (and an optional /data/config.yaml) live in the /data volume; see README.md "Container".

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: compile anything that has no wheel for this platform, install into a venv ---
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libffi-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/bms-hub
WORKDIR /src
# .dockerignore keeps this to pyproject.toml, README.md and the Python packages.
COPY . .
RUN /opt/bms-hub/bin/pip install .

# --- runtime: the venv only; no compilers, no sources ---
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/bms-hub/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY --from=builder /opt/bms-hub /opt/bms-hub
RUN groupadd --gid 1000 bms \
    && useradd --uid 1000 --gid bms --home-dir /data --no-create-home --shell /usr/sbin/nologin bms \
    && mkdir -p /data \
    && chown bms:bms /data
WORKDIR /data
VOLUME ["/data"]
USER bms
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/health', timeout=4)"]
ENTRYPOINT ["bms-hub"]
CMD ["run", "--data-dir", "/data", "--port", "8080"]
