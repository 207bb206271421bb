// A segment timer sweep starts (the same protocol as journeys/engine_begin_sweep, cursor id 'segments').
// Params: $sweepId, $target
MATCH (c:TimerCursor {id: 'segments'})
SET c._rev = coalesce(c._rev, 0) + 1
SET c.sweepId = $sweepId,
    c.sweepTo = CASE WHEN c.sweepTo IS NULL OR c.sweepTo < $target THEN $target ELSE c.sweepTo END,
    c.lowest = null
RETURN c.bucket AS bucket
