// What erasing a person removes: their identity keys and how many nodes of each kind hang off them.
// Anchored on the person's unique personId.
//   :param personId => '3f1c...'
MATCH (p:Person {personId: $personId})
CALL (p) { OPTIONAL MATCH (i:Identity)-[:IDENTIFIES]->(p) RETURN collect(i.key) AS keys }
CALL (p) { OPTIONAL MATCH (p)-[:PERFORMED]->(e:Event) RETURN count(e) AS events }
CALL (p) { OPTIONAL MATCH (p)-[:HAD_SESSION]->(s:Session) RETURN count(s) AS sessions }
CALL (p) { OPTIONAL MATCH (p)-[:ENROLLED]->(en:Enrollment) RETURN count(en) AS enrollments }
CALL (p) { OPTIONAL MATCH (a:ActionRequest)-[:FOR]->(p) RETURN count(a) AS actionRequests }
CALL (p) { OPTIONAL MATCH (d:Decision)-[:FOR]->(p) RETURN count(d) AS decisions }
CALL (p) { OPTIONAL MATCH (d:Delivery)-[:TO]->(p) RETURN count(d) AS deliveries }
CALL (p) { OPTIONAL MATCH (p)-[:MERGED_FROM]->(m:PersonMerge) RETURN count(m) AS merges }
CALL (p) { OPTIONAL MATCH (p)-[:SEGMENT_CHANGE]->(c:SegmentChange) RETURN count(c) AS segmentChanges }
RETURN p.personId AS personId, keys, events, sessions, enrollments, actionRequests, decisions, deliveries, merges,
       segmentChanges
