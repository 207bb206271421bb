// Lock people before re-reading their facts and writing their memberships (a counter bump: a concurrent
// ingest of the same person then conflicts or waits instead of racing). Params: $persons
UNWIND $persons AS pid
MATCH (p:Person {personId: pid})
SET p._rev = coalesce(p._rev, 0) + 1
