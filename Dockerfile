# pressbot: multi-stage build, slim Python, non-root, database on the /data volume.
#   docker build -t pressbot .
#   docker run -v pressbot-data:/data -e PRESSBOT_TOKEN=... pressbot
# Mount your own config at /app/config.toml (or set PRESSBOT_CONFIG) to change sources.

FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --upgrade pip
COPY pyproject.toml README.md config.example.toml ./
COPY bot ./bot
RUN /opt/venv/bin/pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 pressbot \
 && mkdir -p /data /app \
 && chown pressbot:pressbot /data
COPY --from=build /opt/venv /opt/venv
COPY seeds /app/seeds
COPY config.example.toml /app/config.toml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PRESSBOT_CONFIG=/app/config.toml \
    PRESSBOT_DB=/data/pressbot.db
WORKDIR /app
USER 10001:10001
VOLUME ["/data"]
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s \
  CMD ["pressbot", "sources"]
ENTRYPOINT ["pressbot"]
CMD ["run"]
