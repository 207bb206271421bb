// Mark re-applied failures resolved. Params: $ids (failureIds), $atMs, $by
UNWIND $ids AS id
MATCH (f:EngineFailure {failureId: id})
SET f.status = 'resolved', f.resolvedAtMs = $atMs, f.resolvedBy = $by
