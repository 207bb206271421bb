// Push, step 2: a new draft version (the journey's latest) with its definition as canonical JSON.
// Params: $journeyId, $version, $key, $name, $checksum, $definition, $author, $atMs
MATCH (j:Journey {journeyId: $journeyId})
SET j.latestVersion = $version, j.name = $name, j.updatedAtMs = $atMs
CREATE (j)-[:HAS_VERSION]->(v:JourneyVersion {
  key: $key, journeyId: $journeyId, version: $version, status: 'draft', checksum: $checksum,
  definition: $definition, name: $name, author: $author, createdAtMs: $atMs, updatedAtMs: $atMs
})
RETURN v.key AS key
