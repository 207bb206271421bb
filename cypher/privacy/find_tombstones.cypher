// Which of these hashed identity keys are tombstoned (the ingest check, one lookup per key).
//   :param keys => ['sha256:...']
UNWIND $keys AS k
MATCH (t:Tombstone {key: k})
RETURN t.key AS key
