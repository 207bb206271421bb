// Record changes to journey versions. detail is a JSON string (no map-valued properties).
// Params: $rows: [{versionKey, auditId, action, principal, role, atMs, journeyId, version, checksum, detail}]
UNWIND $rows AS r
MATCH (v:JourneyVersion {key: r.versionKey})
CREATE (v)-[:AUDITED]->(:AuditEntry {
  auditId: r.auditId, action: r.action, principal: r.principal, role: r.role, atMs: r.atMs,
  journeyId: r.journeyId, version: r.version, checksum: r.checksum, detail: r.detail
})
