// After a sweep, move the cursor to $bucket unless someone moved it meanwhile (locked first).
// Params: $expected, $bucket
MATCH (c:TimerCursor {id: 'journeys'})
SET c._rev = coalesce(c._rev, 0) + 1
WITH c
WHERE c.bucket = $expected
SET c.bucket = $bucket
