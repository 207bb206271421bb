// A transaction wrote timers whose earliest minute bucket is $bucket. It pulls the cursor back when that
// is earlier, and when it is at or below what a sweep may advance to (`sweepTo`, plus 10 minutes of
// headroom) it also records the bucket in `lowest` and bumps `version`: a sweep running meanwhile then
// advances the cursor no further than `lowest`, so it cannot pass over this timer. Timers further ahead
// (the usual case) write nothing here. Created on first use. Params: $bucket
MERGE (c:TimerCursor {id: 'journeys'})
ON CREATE SET c.bucket = $bucket, c.version = 0
WITH c
WHERE $bucket < c.bucket OR c.sweepTo IS NULL OR $bucket <= c.sweepTo + 10
SET c.version = coalesce(c.version, 0) + 1,
    c.bucket = CASE WHEN $bucket < c.bucket THEN $bucket ELSE c.bucket END,
    c.lowest = CASE WHEN c.lowest IS NULL OR $bucket < c.lowest THEN $bucket ELSE c.lowest END
