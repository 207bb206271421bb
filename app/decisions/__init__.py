"""The resolver, its constraints, person state (consent, suppression, time zone) and the decision graph."""
