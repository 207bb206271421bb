// A journey's engine failures, newest first, optionally only one status ('open' | 'resolved').
// Params: $journeyId, $status (null: all), $limit
MATCH (:Journey {journeyId: $journeyId})-[:HAS_VERSION]->(v:JourneyVersion)<-[:IN_VERSION]-(f:EngineFailure)
WHERE $status IS NULL OR f.status = $status
RETURN f.failureId AS failureId, v.journeyId AS journeyId, v.version AS version, f.messageId AS messageId,
       f.kind AS kind, f.error AS error, f.status AS status, f.atMs AS atMs, f.firstAtMs AS firstAtMs,
       f.attempts AS attempts, f.resolvedAtMs AS resolvedAtMs, f.resolvedBy AS resolvedBy
ORDER BY atMs DESC, failureId
LIMIT $limit
