// Segment timers the person already has (segments/facts returned them) wake at another time.
// Params: $rows: [{key, wakeAtMs, wakeBucket}]
UNWIND $rows AS r
MATCH (t:SegmentTimer {key: r.key})
SET t.wakeAtMs = r.wakeAtMs, t.wakeBucket = r.wakeBucket
