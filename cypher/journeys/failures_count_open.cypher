// How many failures of one version are still open. Params: $key (version key)
MATCH (v:JourneyVersion {key: $key})
OPTIONAL MATCH (v)<-[:IN_VERSION]-(f:EngineFailure)
WHERE f.status = 'open'
RETURN count(f) AS open
