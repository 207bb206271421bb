// Timeline page (VISITED edges of the person's enrollments; the seq zero-padded so a walk sorts in order):
// see read_timeline_events for the cursor. Params: $personId, $beforeMs, $beforeKey, $limit
MATCH (p:Person {personId: $personId})-[:ENROLLED]->(en:Enrollment)-[v:VISITED]->(s:Step)
WITH en, v, s, v.atMs AS atMs,
     '6:' + en.enrollmentId + '#' + substring('0000000000' + toString(v.seq), size(toString(v.seq))) AS sortKey
WHERE atMs < $beforeMs OR (atMs = $beforeMs AND sortKey < $beforeKey)
RETURN atMs, sortKey, en.enrollmentId + '#' + toString(v.seq) AS id, en.enrollmentId AS enrollmentId,
       en.journeyId AS journeyId, s.version AS version, s.stepId AS stepId, s.type AS stepType, v.seq AS seq,
       v.path AS path, v.trigger AS trigger, v.detail AS detail
ORDER BY atMs DESC, sortKey DESC
LIMIT $limit
