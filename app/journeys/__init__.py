"""Journeys: definitions loaded from YAML/JSON, a template catalog, a linter over the step graph, and the engine."""
