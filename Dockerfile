# The journeys service (HTTP API, ingest consumer) against an external Neo4j and Kafka.
# Used by docker-compose.yml. The embedded servers (the `embedded` extra) are not installed.
#
# Two stages: build the wheel from the source tree, then install only that wheel. Everything the service
# reads at run time (cypher/ as the journeys_cypher package, examples, templates, schemas) is inside it.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY app ./app
COPY graph_models ./graph_models
COPY consumers ./consumers
COPY cypher ./cypher
RUN pip wheel --no-deps --wheel-dir /dist .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY --from=build /dist /dist
RUN pip install /dist/journeys-*.whl \
    && rm -rf /dist \
    && useradd --create-home --uid 10001 journeys \
    && mkdir -p /var/lib/journeys && chown journeys /var/lib/journeys

ENV JOURNEYS_DATA_DIR=/var/lib/journeys \
    JOURNEYS_API_PORT=8088

USER journeys
WORKDIR /home/journeys
EXPOSE 8088

# With NEO4J_URI and KAFKA_BOOTSTRAP set (docker-compose.yml sets both), `up` starts no embedded server:
# it applies the schema, creates the topics, and runs the API and the consumer.
# It binds 127.0.0.1 (JOURNEYS_API_HOST); docker-compose.yml runs it on the host's network.
CMD ["journeys", "up"]
