// Lifecycle changes, step 1: lock the journey for this transaction, so changes to one journey's versions
// serialise and only one version is ever published or paused. The lock is a real write (the journey's
// revision): Neo4j takes the node's write lock here; ArcadeDB's optimistic transactions conflict on it at
// commit and the driver retries the whole transaction function, which then sees the winner's changes.
// Params: $journeyId
MATCH (j:Journey {journeyId: $journeyId})
SET j.revision = coalesce(j.revision, 0) + 1
RETURN j.journeyId AS journeyId
