// Push, step 1: the journey (created on first push) locked for this transaction, with its latest version.
// Lock-first by a real write (the journey's revision): Neo4j takes the node's write lock here, and
// ArcadeDB's optimistic transactions conflict on it at commit (the driver retries), so concurrent pushes
// of the same journey never both take the same version number.
// Params: $journeyId, $name, $atMs
MERGE (j:Journey {journeyId: $journeyId})
ON CREATE SET j.name = $name, j.createdAtMs = $atMs, j.latestVersion = 0
SET j.revision = coalesce(j.revision, 0) + 1
WITH j
OPTIONAL MATCH (j)-[:HAS_VERSION]->(v:JourneyVersion)
WHERE v.version = j.latestVersion
RETURN j.latestVersion AS latestVersion, v.key AS key
