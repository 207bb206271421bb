// Every version of a document, oldest first (no definitions). Params: $docKey
MATCH (:ConfigDocument {key: $docKey})-[:HAS_VERSION]->(v:ConfigVersion)
RETURN v.key AS key, v.kind AS kind, v.id AS id, v.version AS version, v.checksum AS checksum,
       v.status AS status, v.author AS author, v.createdAtMs AS createdAtMs, v.updatedAtMs AS updatedAtMs,
       v.submittedBy AS submittedBy, v.approvedBy AS approvedBy, v.publishedBy AS publishedBy,
       v.publishedAtMs AS publishedAtMs, v.archivedBy AS archivedBy
ORDER BY v.version
