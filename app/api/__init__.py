"""The FastAPI service: Segment-compatible HTTP intake and health."""
