// What-if replay: one page of person ids in personId order, after $after ('' for the first page). Read-only.
// Params: $after, $limit
MATCH (p:Person)
WHERE p.personId > $after
RETURN p.personId AS personId
ORDER BY personId
LIMIT $limit
