// Durable segment timers: re-evaluate a person for a segment when a window passes. One per (segment,
// person), keyed '<segmentId>|<personId>'. Params: $rows: [{key, personId, segmentId, wakeAtMs, wakeBucket}]
UNWIND $rows AS r
MERGE (t:SegmentTimer {key: r.key})
SET t.personId = r.personId, t.segmentId = r.segmentId, t.wakeAtMs = r.wakeAtMs, t.wakeBucket = r.wakeBucket
