// Record changes to segment versions. detail is JSON text.
// Params: $rows: [{versionKey, auditId, action, principal, role, atMs, segmentId, version, checksum, detail, seq}]
UNWIND $rows AS r
MATCH (v:SegmentVersion {key: r.versionKey})
CREATE (v)-[:AUDITED]->(:SegmentAudit {
  auditId: r.auditId, action: r.action, principal: r.principal, role: r.role, atMs: r.atMs,
  segmentId: r.segmentId, version: r.version, checksum: r.checksum, detail: r.detail, seq: r.seq
})
