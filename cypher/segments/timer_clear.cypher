// Drop segment timers nothing can change any more (and their link from the person). Params: $keys
UNWIND $keys AS k
MATCH (t:SegmentTimer {key: k})
DETACH DELETE t
