// The journey's versions that are live (published or paused). Params: $journeyId
MATCH (j:Journey {journeyId: $journeyId})-[:HAS_VERSION]->(v:JourneyVersion)
WHERE v.status IN ['published', 'paused']
RETURN v.version AS version, v.key AS key, v.status AS status, v.checksum AS checksum
ORDER BY v.version
