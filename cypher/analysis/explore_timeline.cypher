// explore.ipynb: one person's events in time order with their session, found by an identity key
// (`userId:ann`), so ids aliased into someone else work too. Params: $key
MATCH (:Identity {key: $key})-[:IDENTIFIES]->(p:Person)-[:PERFORMED]->(e:Event)
OPTIONAL MATCH (e)-[:IN_SESSION]->(s:Session)
RETURN e.timestamp AS at, e.type AS type, coalesce(e.event, e.name, e.groupId, e.previousId) AS what,
       e.properties AS properties, e.anonymousId AS anonymousId, s.sessionId AS session
ORDER BY e.timestampMs, e.messageId
