// Start (or start again) a batch evaluation of one segment version: cursor and counters reset.
// Params: $evaluationId, $segmentId, $version, $atMs
MATCH (s:Segment {segmentId: $segmentId})
MERGE (e:SegmentEvaluation {evaluationId: $evaluationId})
ON CREATE SET e.segmentId = $segmentId, e.version = $version
MERGE (s)-[:EVALUATED]->(e)
SET e.status = 'running', e.cursor = null, e.scanned = 0, e.entered = 0, e.left = 0, e.startedAtMs = $atMs,
    e.finishedAtMs = null
