// Push, step 2: a new draft version (the document's latest) holding the document as canonical JSON.
// Params: $docKey, $key, $kind, $id, $version, $checksum, $definition, $author, $atMs
MATCH (d:ConfigDocument {key: $docKey})
SET d.latestVersion = $version, d.updatedAtMs = $atMs
CREATE (d)-[:HAS_VERSION]->(v:ConfigVersion {
  key: $key, kind: $kind, id: $id, version: $version, status: 'draft', checksum: $checksum,
  definition: $definition, author: $author, createdAtMs: $atMs, updatedAtMs: $atMs
})
RETURN v.key AS key
