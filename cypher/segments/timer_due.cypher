// Up to $limit segment timers due at $nowMs, looked up by minute bucket (equality: indexed), locked first:
// the person and the segments to re-evaluate (a timer written before timers were per person names one
// segment in `segmentId`, under the key '<segmentId>|<personId>'). Params: $buckets, $nowMs, $limit
UNWIND $buckets AS b
MATCH (t:SegmentTimer {wakeBucket: b})
WHERE t.wakeAtMs <= $nowMs
WITH t LIMIT $limit
SET t._rev = coalesce(t._rev, 0) + 1
RETURN t.key AS key, t.personId AS personId, coalesce(t.segments, [t.segmentId]) AS segments,
       t.wakeAtMs AS wakeAtMs
