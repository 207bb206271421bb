// Open engine failures per version (kind 'skipped' not counted: they follow another failure), with the
// version's status, to decide whether to pause it. Params: $keys: list of version keys
UNWIND $keys AS key
MATCH (v:JourneyVersion {key: key})
OPTIONAL MATCH (v)<-[:IN_VERSION]-(f:EngineFailure)
WHERE f.status = 'open' AND f.kind <> 'skipped'
RETURN v.key AS versionKey, v.journeyId AS journeyId, v.version AS version, v.status AS status, count(f) AS open
