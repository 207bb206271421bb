// Publishing one version archives the document's other published version (lock-first).
// Params: $docKey, $version (the one being published), $atMs, $principal
MATCH (:ConfigDocument {key: $docKey})-[:HAS_VERSION]->(v:ConfigVersion)
WHERE v.version <> $version AND v.status = 'published'
SET v._rev = coalesce(v._rev, 0) + 1
WITH v
WHERE v.status = 'published'
SET v.status = 'archived', v.updatedAtMs = $atMs, v.archivedBy = $principal, v.archivedAtMs = $atMs
RETURN v.version AS version, v.key AS key, v.checksum AS checksum, 'published' AS was
