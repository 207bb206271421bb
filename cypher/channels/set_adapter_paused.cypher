// Pause or resume an adapter (kill switch), audited. Params: $name, $paused, $audit: {auditId, action,
// principal, role, atMs, detail}
MERGE (a:Adapter {name: $name})
SET a._rev = coalesce(a._rev, 0) + 1, a.paused = $paused, a.pausedBy = $audit.principal,
    a.pausedChangedAtMs = $audit.atMs
CREATE (a)-[:AUDITED]->(:AuditEntry {auditId: $audit.auditId, action: $audit.action, principal: $audit.principal,
  role: $audit.role, atMs: $audit.atMs, target: 'adapter:' + $name, detail: $audit.detail})
RETURN a.name AS name, a.paused AS paused
