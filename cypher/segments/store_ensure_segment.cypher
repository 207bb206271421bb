// The segment's head node, made on its first push (also the target of IN_SEGMENT edges).
// Params: $segmentId, $atMs
MERGE (s:Segment {segmentId: $segmentId})
ON CREATE SET s.createdAtMs = $atMs, s.latestVersion = 0, s.revision = 0
