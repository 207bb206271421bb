// Create the persons this batch starts. Every row is new: none of its identity keys pointed at a person when
// the transaction read them (ingest/find_people), so CREATE (no MERGE lookup); a concurrent writer of the same
// person makes the unique constraint reject one transaction, whose retry then finds the person.
// A null property (no userId, no zone) is simply not stored.
// Params: $rows: [{personId, userId, firstMs, lastMs, nowMs, tz?, tzMs?}]
UNWIND $rows AS r
CREATE (:Person {personId: r.personId, userId: r.userId, createdAtMs: r.nowMs, firstSeenAtMs: r.firstMs,
                 lastSeenAtMs: r.lastMs, contextTimezone: r.tz, contextTimezoneAtMs: r.tzMs})
