// The enrollment's history: one VISITED edge per transition, numbered by seq.
// Written only inside the transaction that caused them (never twice), so CREATE is safe.
// Params: $rows: [{enrollmentId, stepKey, seq, atMs, path, trigger, detail}]
UNWIND $rows AS r
MATCH (en:Enrollment {enrollmentId: r.enrollmentId}), (s:Step {key: r.stepKey})
CREATE (en)-[:VISITED {seq: r.seq, atMs: r.atMs, path: r.path, trigger: r.trigger, detail: r.detail}]->(s)
