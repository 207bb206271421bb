// Written timers due in an earlier bucket than the cursor pull it back (created on first use).
// Usually the cursor is already earlier and nothing is written. Params: $bucket
MERGE (c:TimerCursor {id: 'journeys'})
ON CREATE SET c.bucket = $bucket
WITH c
WHERE $bucket < c.bucket
SET c.bucket = $bucket
