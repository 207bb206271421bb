// Drop segment timers nothing can change any more. Params: $keys
UNWIND $keys AS k
MATCH (t:SegmentTimer {key: k})
DELETE t
