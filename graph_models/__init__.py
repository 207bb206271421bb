"""Pure pydantic models of the product's data: Segment events, graph rows. No I/O here."""
