// Durable segment timers: one per person, keyed by the personId, holding each windowed segment's next wake
// (`segments` and `wakes`, parallel lists) and the earliest of them (`wakeAtMs`, `wakeBucket`): the person is
// re-evaluated for all of its segments then. Written by a transaction that holds the person's lock.
// Params: $rows: [{personId, segments, wakes, wakeAtMs, wakeBucket}]
UNWIND $rows AS r
MERGE (t:SegmentTimer {key: r.personId})
SET t.personId = r.personId, t.segments = r.segments, t.wakes = r.wakes, t.wakeAtMs = r.wakeAtMs,
    t.wakeBucket = r.wakeBucket
