// Up to $limit segment timers due at $nowMs, looked up by minute bucket (equality: indexed), locked first.
// Params: $buckets, $nowMs, $limit
UNWIND $buckets AS b
MATCH (t:SegmentTimer {wakeBucket: b})
WHERE t.wakeAtMs <= $nowMs
WITH t LIMIT $limit
SET t._rev = coalesce(t._rev, 0) + 1
RETURN t.key AS key, t.personId AS personId, t.segmentId AS segmentId, t.wakeAtMs AS wakeAtMs
