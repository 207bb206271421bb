// After firing: the earliest bucket still holding a due timer (only paused versions' people).
// Params: $buckets, $nowMs
UNWIND $buckets AS b
MATCH (en:Enrollment {wakeBucket: b})
WHERE en.wakeAtMs <= $nowMs
RETURN min(b) AS earliest
