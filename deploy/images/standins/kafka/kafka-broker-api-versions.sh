#!/bin/sh
# The compose healthcheck's command (the official image's script of this name): one Kafka
# ApiVersions request to --bootstrap-server; exit 0 only on an answer without error.
exec python3 /opt/kafka/api_versions.py "$@"
