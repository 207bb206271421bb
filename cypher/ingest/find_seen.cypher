// Before planning, in one round trip: which of the batch's messageIds are already events (duplicates, skipped)
// and which of its hashed identity keys are tombstoned (erased people: their events are dropped). One row.
// Params: $ids (messageIds), $tombstones (tombstone keys, 'sha256:...', of the batch's identities)
UNWIND $ids AS id
OPTIONAL MATCH (e:Event {messageId: id})
WITH collect(e.messageId) AS stored
UNWIND CASE WHEN size($tombstones) = 0 THEN [null] ELSE $tombstones END AS k
OPTIONAL MATCH (t:Tombstone {key: k})
RETURN stored, collect(t.key) AS erased
