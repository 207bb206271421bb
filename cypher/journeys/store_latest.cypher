// The key of the journey's latest version (none for an unknown journey). Params: $journeyId
MATCH (j:Journey {journeyId: $journeyId})-[:HAS_VERSION]->(v:JourneyVersion)
WHERE v.version = j.latestVersion
RETURN v.key AS key
