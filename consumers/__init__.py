"""Kafka consumer loops."""
