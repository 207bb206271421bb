// A transaction wrote segment timers whose earliest bucket is $bucket (as journeys/engine_lower_cursor).
// Params: $bucket
MERGE (c:TimerCursor {id: 'segments'})
ON CREATE SET c.bucket = $bucket, c.version = 0
WITH c
WHERE $bucket < c.bucket OR c.sweepTo IS NULL OR $bucket <= c.sweepTo + 10
SET c.version = coalesce(c.version, 0) + 1,
    c.bucket = CASE WHEN $bucket < c.bucket THEN $bucket ELSE c.bucket END,
    c.lowest = CASE WHEN c.lowest IS NULL OR $bucket < c.lowest THEN $bucket ELSE c.lowest END
