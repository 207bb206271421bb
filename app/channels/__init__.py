"""Delivery outbox: the dispatcher, the adapter interface and the adapter registry."""
