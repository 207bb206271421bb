// The erasure audit log, newest first.
//   :param limit => 50
MATCH (:PrivacyLog {id: 'privacy'})-[:AUDITED]->(a:AuditEntry)
RETURN a.auditId AS auditId, a.action AS action, a.principal AS principal, a.role AS role, a.atMs AS atMs,
       a.subjectHash AS subjectHash, a.detail AS detail
ORDER BY a.atMs DESC, a.auditId
LIMIT $limit
