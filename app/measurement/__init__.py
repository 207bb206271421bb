"""Measurement: the outbox of measurement records, its relay to Kafka, delivery callbacks, goals and lift."""
