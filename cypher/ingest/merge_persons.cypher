// Merge the loser person into the survivor: events, sessions, identities, accounts, segment memberships and
// their history, journey enrollments, action requests and earlier merge records move over; the survivor keeps its own properties and gains the loser's missing ones;
// consent (per channel the edge with the later atMs; at equal times an opt-out beats an opt-in), suppressions
// (the later atMs keeps its reason) and decisions (FOR) move over too, and the later contextTimezone wins;
// a PersonMerge node records what happened. Params: $rows: [{loser, survivor, messageId, atMs, reason}]
UNWIND $rows AS r
MATCH (loser:Person {personId: r.loser}), (survivor:Person {personId: r.survivor})
CALL (loser, survivor) {
  MATCH (loser)-[old:PERFORMED]->(e)
  MERGE (survivor)-[:PERFORMED]->(e)
  DELETE old
}
CALL (loser, survivor) {
  MATCH (loser)-[old:HAD_SESSION]->(s)
  MERGE (survivor)-[:HAD_SESSION]->(s)
  DELETE old
}
CALL (loser, survivor) {
  MATCH (i:Identity)-[old:IDENTIFIES]->(loser)
  MERGE (i)-[:IDENTIFIES]->(survivor)
  DELETE old
}
CALL (loser, survivor) {
  MATCH (loser)-[old:MEMBER_OF]->(a)
  MERGE (survivor)-[m:MEMBER_OF]->(a)
  ON CREATE SET m.sinceMs = old.sinceMs
  DELETE old
}
CALL (loser, survivor) {
  MATCH (loser)-[old:ENROLLED]->(en)
  MERGE (survivor)-[:ENROLLED]->(en)
  DELETE old
  // Its liveKey named the loser; the survivor may hold a live one in the same journey. The journey
  // engine, in this transaction, exits the duplicates and writes the kept one's key again.
  SET en.personId = survivor.personId
  REMOVE en.liveKey
}
CALL (loser, survivor) {
  // Segment memberships (app/segments) move over, keeping the earlier sinceMs; the segment writer then
  // re-evaluates the survivor for every published segment in this transaction.
  MATCH (loser)-[old:IN_SEGMENT]->(s)
  MERGE (survivor)-[m:IN_SEGMENT]->(s)
  ON CREATE SET m.sinceMs = old.sinceMs, m.since = old.since, m.messageId = old.messageId, m.reason = old.reason,
                m.version = old.version
  FOREACH (_ IN CASE WHEN old.sinceMs < m.sinceMs THEN [1] ELSE [] END | SET m.sinceMs = old.sinceMs)
  DELETE old
}
CALL (loser, survivor) {
  MATCH (loser)-[old:SEGMENT_CHANGE]->(c)
  MERGE (survivor)-[:SEGMENT_CHANGE]->(c)
  DELETE old
}
CALL (loser, survivor) {
  MATCH (a:ActionRequest)-[old:FOR]->(loser)
  MERGE (a)-[:FOR]->(survivor)
  DELETE old
}
CALL (loser, survivor) {
  MATCH (loser)-[old:CONSENT]->(ch:Channel)
  MERGE (survivor)-[c:CONSENT]->(ch)
  FOREACH (_ IN CASE WHEN c.atMs IS NULL OR old.atMs > c.atMs
                          OR (old.atMs = c.atMs AND old.status = 'opted_out' AND c.status = 'opted_in')
                     THEN [1] ELSE [] END |
    SET c.status = old.status, c.source = old.source, c.atMs = old.atMs, c.marketingOnly = old.marketingOnly,
        c.messageId = old.messageId)
  DELETE old
}
CALL (loser, survivor) {
  MATCH (loser)-[old:SUPPRESSED]->(l:SuppressionList)
  MERGE (survivor)-[s:SUPPRESSED]->(l)
  FOREACH (_ IN CASE WHEN s.atMs IS NULL OR old.atMs > s.atMs THEN [1] ELSE [] END |
    SET s.reason = old.reason, s.atMs = old.atMs, s.source = old.source)
  DELETE old
}
CALL (loser, survivor) {
  MATCH (d:Decision)-[old:FOR]->(loser)
  MERGE (d)-[:FOR]->(survivor)
  DELETE old
}
CALL (loser, survivor) {
  MATCH (loser)-[old:MERGED_FROM]->(earlier:PersonMerge)
  MERGE (survivor)-[:MERGED_FROM]->(earlier)
  DELETE old
}
WITH loser, survivor, r, properties(survivor) AS kept,
     [t IN [loser.firstSeenAtMs, survivor.firstSeenAtMs] WHERE t IS NOT NULL] AS firsts,
     [t IN [loser.lastSeenAtMs, survivor.lastSeenAtMs] WHERE t IS NOT NULL] AS lasts,
     [t IN [loser.createdAtMs, survivor.createdAtMs] WHERE t IS NOT NULL] AS createds,
     CASE WHEN coalesce(loser.contextTimezoneAtMs, -1) > coalesce(survivor.contextTimezoneAtMs, -1)
          THEN [loser.contextTimezone, loser.contextTimezoneAtMs] ELSE [] END AS zone
// The loser's id must never land on the survivor, even for a moment (unique constraint).
REMOVE loser.personId
SET survivor += properties(loser)
SET survivor += kept
SET survivor.firstSeenAtMs = reduce(m = head(firsts), t IN firsts | CASE WHEN t < m THEN t ELSE m END),
    survivor.lastSeenAtMs = reduce(m = head(lasts), t IN lasts | CASE WHEN t > m THEN t ELSE m END),
    survivor.createdAtMs = reduce(m = head(createds), t IN createds | CASE WHEN t < m THEN t ELSE m END)
FOREACH (_ IN CASE WHEN size(zone) = 2 THEN [1] ELSE [] END |
  SET survivor.contextTimezone = zone[0], survivor.contextTimezoneAtMs = zone[1])
MERGE (m:PersonMerge {fromPersonId: r.loser})
ON CREATE SET m.intoPersonId = r.survivor, m.messageId = r.messageId, m.atMs = r.atMs, m.reason = r.reason
MERGE (survivor)-[:MERGED_FROM]->(m)
DETACH DELETE loser
