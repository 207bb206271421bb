// Lock a person for a read-then-write (a counter bump is always a write, so it always takes the lock).
// Params: $personId
MATCH (p:Person {personId: $personId})
SET p._rev = coalesce(p._rev, 0) + 1
RETURN p.personId AS personId
