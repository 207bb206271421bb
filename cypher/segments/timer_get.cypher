// The segment timers that exist among $keys and when they wake (a timer that would be written with the same
// time is left alone). Params: $keys
UNWIND $keys AS k
MATCH (t:SegmentTimer {key: k})
RETURN t.key AS key, t.wakeAtMs AS wakeAtMs
