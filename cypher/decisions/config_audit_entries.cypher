// A document's most recent audit entries, newest first. Params: $docKey, $limit
MATCH (:ConfigDocument {key: $docKey})-[:HAS_VERSION]->(:ConfigVersion)-[:AUDITED]->(a:AuditEntry)
RETURN a.auditId AS auditId, a.action AS action, a.principal AS principal, a.role AS role, a.atMs AS atMs,
       a.kind AS kind, a.configId AS id, a.version AS version, a.checksum AS checksum, a.detail AS detail
ORDER BY a.atMs DESC, a.seq DESC
LIMIT $limit
