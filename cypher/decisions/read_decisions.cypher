// Decisions by id with their person, trigger event, configuration versions (by the keys the decision holds:
// onsite decisions have no UNDER edge) and journey versions (no candidates: see read_decision_candidates). Params: $decisionIds (list of strings)
UNWIND $decisionIds AS decisionId
MATCH (d:Decision {decisionId: decisionId})
OPTIONAL MATCH (d)-[:FOR]->(p:Person)
OPTIONAL MATCH (d)-[:TRIGGERED_BY]->(e:Event)
WITH d, p, e
OPTIONAL MATCH (cv:ConfigVersion)
WHERE cv.key IN [d.constraintVersion, d.placementsVersion]
WITH d, p, e, collect(CASE WHEN cv IS NULL THEN null ELSE {key: cv.key, kind: cv.kind, id: cv.id,
     version: cv.version, status: cv.status} END) AS configVersions
OPTIONAL MATCH (d)-[:IN_VERSION]->(jv:JourneyVersion)
RETURN d.decisionId AS decisionId, d.kind AS kind, d.atMs AS atMs, d.at AS at, d.personId AS decidedPersonId,
       p.personId AS personId, p.userId AS userId, d.trigger AS trigger, d.placement AS placement,
       d.chosenCount AS chosenCount, d.constraintVersion AS constraintVersion,
       CASE WHEN e IS NULL THEN null ELSE {messageId: e.messageId, type: e.type, event: e.event,
            timestampMs: e.timestampMs} END AS triggerEvent,
       configVersions,
       collect(CASE WHEN jv IS NULL THEN null ELSE {key: jv.key, journeyId: jv.journeyId, version: jv.version,
               status: jv.status} END) AS journeyVersions
