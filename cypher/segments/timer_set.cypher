// Durable segment timers: re-evaluate a person for a segment when a window passes. One per (segment,
// person), keyed '<segmentId>|<personId>', linked from the person (segments/facts reads them with the facts,
// so a timer whose time did not move is not written again). Params: $rows: [{key, personId, segmentId,
// wakeAtMs, wakeBucket}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
MERGE (t:SegmentTimer {key: r.key})
SET t.personId = r.personId, t.segmentId = r.segmentId, t.wakeAtMs = r.wakeAtMs, t.wakeBucket = r.wakeBucket
MERGE (p)-[:SEGMENT_TIMER]->(t)
