// A dispatcher sweep starts (same protocol as the timer cursor, cypher/journeys/engine_begin_sweep): lock the
// cursor, announce how far the sweep may move it (`sweepTo`, never lowered), name the sweep (only the
// latest-started may move it) and clear `lowest`. Params: $sweepId, $target
MATCH (c:DeliveryCursor {id: 'deliveries'})
SET c._rev = coalesce(c._rev, 0) + 1
SET c.sweepId = $sweepId,
    c.sweepTo = CASE WHEN c.sweepTo IS NULL OR c.sweepTo < $target THEN $target ELSE c.sweepTo END,
    c.lowest = null
RETURN c.bucket AS bucket
