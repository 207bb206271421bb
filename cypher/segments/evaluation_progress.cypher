// One page of a batch evaluation is done: move the cursor (the last personId evaluated) and add the counts.
// Params: $evaluationId, $cursor, $scanned, $entered, $left
MATCH (e:SegmentEvaluation {evaluationId: $evaluationId})
SET e.cursor = $cursor, e.scanned = e.scanned + $scanned, e.entered = e.entered + $entered,
    e.left = e.left + $left
