// Drop segment timers nothing can change any more (keys: personIds, or '<segmentId>|<personId>' for a timer
// written before timers were per person). Params: $keys
UNWIND $keys AS k
MATCH (t:SegmentTimer {key: k})
DELETE t
