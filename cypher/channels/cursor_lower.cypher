// A transaction wrote deliveries whose earliest due bucket is $bucket. Usual writes (due now, the cursor
// trails the clock by JOURNEYS_DISPATCH_LOOKBACK_MIN > 10 minutes) write nothing here; a late one (a
// backfilled event, a retry from the API) pulls the cursor back and records `lowest` so a sweep running
// meanwhile cannot pass over it. MATCH, not MERGE: with no cursor the first dispatcher scans. Params: $bucket
MATCH (c:DeliveryCursor {id: 'deliveries'})
WITH c
WHERE $bucket < c.bucket OR c.sweepTo IS NULL OR $bucket <= c.sweepTo + 10
SET c.version = coalesce(c.version, 0) + 1,
    c.bucket = CASE WHEN $bucket < c.bucket THEN $bucket ELSE c.bucket END,
    c.lowest = CASE WHEN c.lowest IS NULL OR $bucket < c.lowest THEN $bucket ELSE c.lowest END
