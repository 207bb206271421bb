// Publishing one version archives the journey's other live (published or paused) version, lock-first.
// People enrolled on it keep going on it. Params: $journeyId, $version (the one being published), $atMs,
// $principal
MATCH (j:Journey {journeyId: $journeyId})-[:HAS_VERSION]->(v:JourneyVersion)
WHERE v.version <> $version AND v.status IN ['published', 'paused']
SET v._lock = true
WITH v
WHERE v.version <> $version AND v.status IN ['published', 'paused']
WITH v, v.status AS was
SET v.status = 'archived', v.updatedAtMs = $atMs, v.archivedBy = $principal, v.archivedAtMs = $atMs
REMOVE v._lock
RETURN v.version AS version, v.key AS key, v.checksum AS checksum, was
