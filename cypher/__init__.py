"""The Cypher files, shipped inside the wheel as the `journeys_cypher` package (see setup.py); read them here."""
