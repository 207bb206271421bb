// In-app messages that journeys chose for the person and that wait for pickup by /v1/next-action
// (not expired; for this placement or for any). Anchored on the person. Params: $personId, $placement, $nowMs
MATCH (p:Person {personId: $personId})<-[:FOR]-(a:ActionRequest)
WHERE a.pickup = 'pending' AND a.expiresAtMs > $nowMs AND (a.placement IS NULL OR a.placement = $placement)
RETURN properties(a) AS request
ORDER BY a.atMs
