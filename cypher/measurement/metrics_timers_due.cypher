// /metrics: live enrollments whose timer is due and not fired yet, by minute bucket from the timer cursor
// (equality per bucket, like the timer service). Params: $buckets, $nowMs
UNWIND $buckets AS b
MATCH (en:Enrollment {wakeBucket: b})
WHERE en.wakeAtMs <= $nowMs
RETURN count(en) AS due
