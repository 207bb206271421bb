// Push, step 1: the document (made by config_ensure_document) locked for this transaction, with its latest
// version. Lock-first by a real write (a counter bump of `revision`): Neo4j takes the node's write lock here
// and ArcadeDB's optimistic transactions conflict on it at commit (the driver retries), so two concurrent
// pushes never take the same version number. Params: $docKey
MATCH (d:ConfigDocument {key: $docKey})
SET d.revision = coalesce(d.revision, 0) + 1
WITH d
OPTIONAL MATCH (d)-[:HAS_VERSION]->(v:ConfigVersion)
WHERE v.version = d.latestVersion
RETURN d.latestVersion AS latestVersion, v.key AS key, v.checksum AS checksum, d.revision AS revision
