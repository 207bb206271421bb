// The erasure's audit record: no personal data, only a hash of the person id, who asked, when and how
// much went. Anchored on the single PrivacyLog node.
MERGE (l:PrivacyLog {id: 'privacy'})
CREATE (l)-[:AUDITED]->(:AuditEntry {auditId: $auditId, action: $action, principal: $principal, role: $role,
                                     atMs: $atMs, subjectHash: $subjectHash, detail: $detail})
