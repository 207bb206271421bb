// Merge the loser person into the survivor: events, sessions, identities, accounts, journey
// enrollments, action requests and earlier merge records move over; the survivor keeps its own properties and gains the loser's missing ones;
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
}
CALL (loser, survivor) {
  MATCH (a:ActionRequest)-[old:FOR]->(loser)
  MERGE (a)-[:FOR]->(survivor)
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
     [t IN [loser.createdAtMs, survivor.createdAtMs] WHERE t IS NOT NULL] AS createds
// The loser's id must never land on the survivor, even for a moment (unique constraint).
REMOVE loser.personId
SET survivor += properties(loser)
SET survivor += kept
SET survivor.firstSeenAtMs = reduce(m = head(firsts), t IN firsts | CASE WHEN t < m THEN t ELSE m END),
    survivor.lastSeenAtMs = reduce(m = head(lasts), t IN lasts | CASE WHEN t > m THEN t ELSE m END),
    survivor.createdAtMs = reduce(m = head(createds), t IN createds | CASE WHEN t < m THEN t ELSE m END)
MERGE (m:PersonMerge {fromPersonId: r.loser})
ON CREATE SET m.intoPersonId = r.survivor, m.messageId = r.messageId, m.atMs = r.atMs, m.reason = r.reason
MERGE (survivor)-[:MERGED_FROM]->(m)
DETACH DELETE loser
