"""Intake: turn raw Segment payloads into validated events and plan their graph writes."""
