// A batch evaluation reached the last person. Params: $evaluationId, $atMs
MATCH (e:SegmentEvaluation {evaluationId: $evaluationId})
SET e.status = 'done', e.finishedAtMs = $atMs
