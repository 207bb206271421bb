// New durable segment timers (as segments/timer_set, for people the same transaction found without one while
// holding their lock, so CREATE: no MERGE lookup). Params: $rows: [{personId, segments, wakes, wakeAtMs,
// wakeBucket}]
UNWIND $rows AS r
CREATE (:SegmentTimer {key: r.personId, personId: r.personId, segments: r.segments, wakes: r.wakes,
                       wakeAtMs: r.wakeAtMs, wakeBucket: r.wakeBucket})
