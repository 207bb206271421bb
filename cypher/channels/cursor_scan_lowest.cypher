// Once, when the first dispatcher creates the cursor: the earliest bucket of any delivery still waiting.
// A full scan of Delivery nodes (no index answers it); it runs only while no cursor exists.
MATCH (d:Delivery)
WHERE d.status IN ['pending', 'retrying', 'held'] AND d.dueBucket IS NOT NULL
RETURN min(d.dueBucket) AS bucket
