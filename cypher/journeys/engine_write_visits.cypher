// The enrollment's history: one VISITED edge per transition, numbered by seq.
// Params: $rows: [{enrollmentId, stepKey, seq, atMs, path, trigger, detail}]
UNWIND $rows AS r
MATCH (en:Enrollment {enrollmentId: r.enrollmentId}), (s:Step {key: r.stepKey})
MERGE (en)-[v:VISITED {seq: r.seq}]->(s)
ON CREATE SET v.atMs = r.atMs, v.path = r.path, v.trigger = r.trigger, v.detail = r.detail
