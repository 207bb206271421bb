// Engine failures: one EngineFailure per (journey version, event), IN_VERSION its version and ON_EVENT the
// event (when the event is in the graph). Recording it again re-opens it with the newest error.
// Params: $rows: [{failureId, versionKey, messageId, props: {failureId, versionKey, messageId, kind, error, atMs}}]
UNWIND $rows AS r
MATCH (v:JourneyVersion {key: r.versionKey})
MERGE (f:EngineFailure {failureId: r.failureId})
ON CREATE SET f += r.props, f.status = 'open', f.firstAtMs = r.props.atMs, f.attempts = 1
ON MATCH SET f += r.props, f.status = 'open', f.attempts = coalesce(f.attempts, 0) + 1
REMOVE f.resolvedAtMs
MERGE (f)-[:IN_VERSION]->(v)
WITH f, r
OPTIONAL MATCH (e:Event {messageId: r.messageId})
FOREACH (x IN CASE WHEN e IS NULL THEN [] ELSE [e] END | MERGE (f)-[:ON_EVENT]->(x))
