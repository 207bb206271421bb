// Touch the known persons of this batch (already locked by ingest/find_people): widen firstSeenAtMs /
// lastSeenAtMs, set userId only where it was unset (`userId` is null in a row whose person already had one),
// and record the latest valid context.timezone of the batch's events (contextTimezone, contextTimezoneAtMs)
// unless the stored one is newer. Properties that would keep their value are not written.
// Params: $rows: [{personId, userId, firstMs, lastMs, tz?, tzMs?}] (no tz: no event sent a valid zone)
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
FOREACH (_ IN CASE WHEN r.userId IS NOT NULL AND p.userId IS NULL THEN [1] ELSE [] END | SET p.userId = r.userId)
FOREACH (_ IN CASE WHEN p.firstSeenAtMs IS NULL OR r.firstMs < p.firstSeenAtMs THEN [1] ELSE [] END |
  SET p.firstSeenAtMs = r.firstMs)
FOREACH (_ IN CASE WHEN p.lastSeenAtMs IS NULL OR r.lastMs > p.lastSeenAtMs THEN [1] ELSE [] END |
  SET p.lastSeenAtMs = r.lastMs)
FOREACH (_ IN CASE WHEN r.tz IS NOT NULL AND r.tzMs >= coalesce(p.contextTimezoneAtMs, 0) THEN [1] ELSE [] END |
  SET p.contextTimezone = r.tz, p.contextTimezoneAtMs = r.tzMs)
