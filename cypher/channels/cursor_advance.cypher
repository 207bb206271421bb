// After a sweep, move the cursor to $bucket, or only to `lowest` when a late delivery was written there
// meanwhile. A sweep that is no longer the latest-started one moves nothing. Params: $sweepId, $bucket
MATCH (c:DeliveryCursor {id: 'deliveries'})
SET c._rev = coalesce(c._rev, 0) + 1
WITH c
WHERE c.sweepId = $sweepId
SET c.bucket = CASE WHEN c.lowest IS NOT NULL AND c.lowest < $bucket THEN c.lowest ELSE $bucket END,
    c.lowest = null
RETURN c.bucket AS bucket
