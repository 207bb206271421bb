// Timeline page (suppression lists the person is on, at the time they were put there): see
// read_timeline_events for the cursor. Params: $personId, $beforeMs, $beforeKey, $limit
MATCH (p:Person {personId: $personId})-[s:SUPPRESSED]->(l:SuppressionList)
WITH 'suppression' AS kind, s.atMs AS atMs, '4:' + l.listId AS sortKey, l.listId AS id,
     {listId: l.listId, reason: s.reason, source: s.source} AS data
WHERE atMs < $beforeMs OR (atMs = $beforeMs AND sortKey < $beforeKey)
RETURN kind, atMs, sortKey, id, data
ORDER BY atMs DESC, sortKey DESC
LIMIT $limit
