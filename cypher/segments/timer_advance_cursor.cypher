// After a segment timer sweep, move the cursor to $bucket (or to `lowest`, see timer_lower_cursor).
// Params: $sweepId, $bucket
MATCH (c:TimerCursor {id: 'segments'})
SET c._rev = coalesce(c._rev, 0) + 1
WITH c
WHERE c.sweepId = $sweepId
SET c.bucket = CASE WHEN c.lowest IS NOT NULL AND c.lowest < $bucket THEN c.lowest ELSE $bucket END,
    c.lowest = null
RETURN c.bucket AS bucket
