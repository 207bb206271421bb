"""What-if replay of a draft journey version over recorded events (issue 9)."""
