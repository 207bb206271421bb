// A journey's most recent audit entries, newest first. Params: $journeyId, $limit
MATCH (a:AuditEntry)
WHERE a.journeyId = $journeyId
RETURN a.auditId AS auditId, a.action AS action, a.principal AS principal, a.role AS role, a.atMs AS atMs,
       a.journeyId AS journeyId, a.version AS version, a.checksum AS checksum, a.detail AS detail
ORDER BY a.atMs DESC, a.version DESC
LIMIT $limit
