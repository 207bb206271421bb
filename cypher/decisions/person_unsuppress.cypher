// Take a person off a suppression list. Params: $personId, $listId. Returns removed (0 or 1).
MATCH (p:Person {personId: $personId})-[s:SUPPRESSED]->(:SuppressionList {listId: $listId})
DELETE s
RETURN count(*) AS removed
