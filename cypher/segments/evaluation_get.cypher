// A batch evaluation (its cursor and counters). Params: $evaluationId
MATCH (e:SegmentEvaluation {evaluationId: $evaluationId})
RETURN e.evaluationId AS evaluationId, e.segmentId AS segmentId, e.version AS version, e.status AS status,
       e.scanned AS scanned, e.entered AS entered, e.left AS left, e.cursor AS cursor,
       e.startedAtMs AS startedAtMs, e.finishedAtMs AS finishedAtMs
