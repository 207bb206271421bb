// Every journey with its latest version's status and its live (published or paused) version, if any.
MATCH (j:Journey)
OPTIONAL MATCH (j)-[:HAS_VERSION]->(latest:JourneyVersion)
WHERE latest.version = j.latestVersion
OPTIONAL MATCH (j)-[:HAS_VERSION]->(live:JourneyVersion)
WHERE live.status IN ['published', 'paused']
RETURN j.journeyId AS journeyId, j.name AS name, j.createdAtMs AS createdAtMs, j.latestVersion AS latestVersion,
       latest.status AS latestStatus, live.version AS liveVersion, live.status AS liveStatus
ORDER BY journeyId
