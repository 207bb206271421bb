"""Journeys: graph-backed customer journey orchestration."""
