// After a sweep, move the cursor to $bucket, or only to `lowest` when a timer was written there during
// the sweep (engine_lower_cursor). Locked first; a sweep that is no longer the latest-started one moves
// nothing (the newer sweep will). Returns the new bucket (no row: not moved).
// Params: $sweepId, $bucket
MATCH (c:TimerCursor {id: 'journeys'})
SET c._rev = coalesce(c._rev, 0) + 1
WITH c
WHERE c.sweepId = $sweepId
SET c.bucket = CASE WHEN c.lowest IS NOT NULL AND c.lowest < $bucket THEN c.lowest ELSE $bucket END,
    c.lowest = null
RETURN c.bucket AS bucket
