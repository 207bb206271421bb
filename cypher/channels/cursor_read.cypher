// The delivery cursor: the earliest minute bucket that may hold a due delivery (no row: not created yet).
MATCH (c:DeliveryCursor {id: 'deliveries'})
RETURN c.bucket AS bucket
