// Up to $limit deliveries due by $nowMs in the given minute buckets (equality: indexed), locked with a
// counter bump so a concurrent dispatcher conflicts (ArcadeDB) or waits (Neo4j); the claim re-checks them
// after the lock. A claimed delivery's dueAtMs is its lease end, so an expired lease is simply due again.
// Params: $buckets, $nowMs, $limit
UNWIND $buckets AS b
MATCH (d:Delivery {dueBucket: b})
WHERE d.dueAtMs <= $nowMs AND d.status IN ['pending', 'retrying']
WITH d LIMIT $limit
SET d._rev = coalesce(d._rev, 0) + 1
RETURN d.deliveryId AS deliveryId, d.channel AS channel, d.journeyId AS journeyId, d.version AS version
