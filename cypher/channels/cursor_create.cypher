// Create the delivery cursor at $bucket (a concurrent creator fails on the unique id and re-reads).
MERGE (c:DeliveryCursor {id: 'deliveries'})
ON CREATE SET c.bucket = $bucket, c.version = 0
RETURN c.bucket AS bucket
