// Lifecycle changes, step 1: lock the document for this transaction (a counter bump, a real write), so
// changes to one document's versions serialise: of two concurrent approvals one wins, of two concurrent
// publications the later archives the earlier. Params: $docKey
MATCH (d:ConfigDocument {key: $docKey})
SET d.revision = coalesce(d.revision, 0) + 1
RETURN d.key AS key, d.revision AS revision
