// Push, step 1: the document (created on first push) locked for this transaction, with its latest version.
// Lock-first by a real write (a counter bump of `revision`): Neo4j takes the node's write lock here and
// ArcadeDB's optimistic transactions conflict on it at commit (the driver retries), so two concurrent pushes
// never take the same version number. Params: $docKey, $kind, $id, $atMs
MERGE (d:ConfigDocument {key: $docKey})
ON CREATE SET d.kind = $kind, d.id = $id, d.createdAtMs = $atMs, d.latestVersion = 0
SET d.revision = coalesce(d.revision, 0) + 1
WITH d
OPTIONAL MATCH (d)-[:HAS_VERSION]->(v:ConfigVersion)
WHERE v.version = d.latestVersion
RETURN d.latestVersion AS latestVersion, v.key AS key, v.checksum AS checksum
