# The journeys service (HTTP API, ingest consumer) against an external Neo4j and Kafka.
# Used by docker-compose.yml. The embedded servers (the `embedded` extra) are not installed.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The source tree stays in /app and is installed in editable mode: the service reads files that sit
# beside its code (cypher/*.cypher via REPO_ROOT, YAML/JSON next to modules), which a plain wheel of
# this project would not contain.
COPY pyproject.toml README.md ./
COPY app ./app
COPY graph_models ./graph_models
COPY consumers ./consumers
COPY cypher ./cypher
RUN pip install -e . \
    && useradd --create-home --uid 10001 journeys \
    && mkdir -p /tmp/journeys && chown journeys /tmp/journeys

ENV JOURNEYS_DATA_DIR=/tmp/journeys \
    JOURNEYS_API_PORT=8088

USER journeys
EXPOSE 8088

# With NEO4J_URI and KAFKA_BOOTSTRAP set (docker-compose.yml sets both), `up` starts no embedded server:
# it applies the schema, creates the topics, and runs the API and the consumer.
# 0.0.0.0 is the container's own interface; docker-compose.yml publishes it on 127.0.0.1 only.
CMD ["journeys", "up", "--host", "0.0.0.0"]
