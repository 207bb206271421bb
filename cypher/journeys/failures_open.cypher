// The open failures of one version whose event is in the graph, oldest event first, with the event's
// properties and its person now (after any merge). Params: $key (version key), $limit
MATCH (v:JourneyVersion {key: $key})<-[:IN_VERSION]-(f:EngineFailure)-[:ON_EVENT]->(e:Event)
WHERE f.status = 'open'
MATCH (p:Person)-[:PERFORMED]->(e)
RETURN f.failureId AS failureId, properties(e) AS event, p.personId AS personId
ORDER BY e.timestampMs, e.messageId
LIMIT $limit
