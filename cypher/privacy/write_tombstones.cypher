// Tombstones of erased identity keys: ingest drops events naming one of them. `key` is the SHA-256 of
// the identity key (`userId:<x>`), so the tombstone holds no plain id.
//   $rows: [{key, atMs, auditId}]
UNWIND $rows AS r
MERGE (t:Tombstone {key: r.key})
ON CREATE SET t.atMs = r.atMs, t.auditId = r.auditId
