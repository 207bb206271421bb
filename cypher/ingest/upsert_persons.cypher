// Create or touch persons seen in this batch; record the latest valid context.timezone of the batch's events
// (contextTimezone, contextTimezoneAtMs) unless the stored one is newer.
// Params: $rows: [{personId, userId, firstMs, lastMs, nowMs, tz?, tzMs?}] (no tz: no event sent a valid zone)
UNWIND $rows AS r
MERGE (p:Person {personId: r.personId})
ON CREATE SET p.createdAtMs = r.nowMs
SET p.userId = coalesce(p.userId, r.userId),
    p.firstSeenAtMs = CASE WHEN p.firstSeenAtMs IS NULL OR r.firstMs < p.firstSeenAtMs
                      THEN r.firstMs ELSE p.firstSeenAtMs END,
    p.lastSeenAtMs = CASE WHEN p.lastSeenAtMs IS NULL OR r.lastMs > p.lastSeenAtMs
                     THEN r.lastMs ELSE p.lastSeenAtMs END
FOREACH (_ IN CASE WHEN r.tz IS NOT NULL AND r.tzMs >= coalesce(p.contextTimezoneAtMs, 0) THEN [1] ELSE [] END |
  SET p.contextTimezone = r.tz, p.contextTimezoneAtMs = r.tzMs)

