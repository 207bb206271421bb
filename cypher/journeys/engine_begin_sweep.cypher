// A timer sweep starts: lock the cursor (a counter bump), announce how far this sweep may move it
// (`sweepTo`, never lowered: engine_lower_cursor records every timer written at or below it), name the
// sweep (only the latest-started sweep may move the cursor) and clear the record of timers written
// behind it. Params: $sweepId, $target (the bucket this sweep sweeps up to)
MATCH (c:TimerCursor {id: 'journeys'})
SET c._rev = coalesce(c._rev, 0) + 1
SET c.sweepId = $sweepId,
    c.sweepTo = CASE WHEN c.sweepTo IS NULL OR c.sweepTo < $target THEN $target ELSE c.sweepTo END,
    c.lowest = null
RETURN c.bucket AS bucket, coalesce(c.version, 0) AS version
