// The people on one suppression list, newest first. Params: $listId, $limit
MATCH (l:SuppressionList {listId: $listId})<-[s:SUPPRESSED]-(p:Person)
RETURN p.personId AS personId, p.userId AS userId, s.reason AS reason, s.atMs AS atMs, s.source AS source
ORDER BY s.atMs DESC, personId
LIMIT $limit
