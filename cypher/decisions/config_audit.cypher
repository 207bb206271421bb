// Record changes to configuration versions. detail is a JSON string (no map-valued properties).
// Params: $rows: [{versionKey, auditId, action, principal, role, atMs, kind, configId, version, checksum, detail, seq}]
// seq orders a document's entries (the document's revision at the change, times ten, plus the entry's place)
UNWIND $rows AS r
MATCH (v:ConfigVersion {key: r.versionKey})
CREATE (v)-[:AUDITED]->(:AuditEntry {
  auditId: r.auditId, action: r.action, principal: r.principal, role: r.role, atMs: r.atMs, kind: r.kind,
  configId: r.configId, configKey: r.versionKey, version: r.version, checksum: r.checksum, detail: r.detail,
  seq: r.seq
})
