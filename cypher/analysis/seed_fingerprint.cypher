// The seed's fingerprint rows: the domain state a seed must reproduce exactly (people and traits, events,
// enrollments, action requests with their outcomes, decisions, deliveries). Whole-graph read. No parameters.
MATCH (p:Person)
RETURN 'person' AS kind, p.personId AS id, p.userId AS a, p.plan AS b, p.timezone AS c, null AS d
UNION ALL
MATCH (e:Event)
RETURN 'event' AS kind, e.messageId AS id, e.type AS a, e.event AS b, e.timestampMs AS c, null AS d
UNION ALL
MATCH (en:Enrollment)
RETURN 'enrollment' AS kind, en.enrollmentId AS id, en.status AS a, en.stepId AS b, en.variant AS c,
       en.exitReason AS d
UNION ALL
MATCH (r:ActionRequest)
RETURN 'request' AS kind, r.actionId AS id, r.status AS a, r.blockedBy AS b, r.channel AS c, r.atMs AS d
UNION ALL
MATCH (x:Decision)
RETURN 'decision' AS kind, x.decisionId AS id, x.atMs AS a, x.trigger AS b, x.chosenCount AS c, x.personId AS d
UNION ALL
MATCH (y:Delivery)
RETURN 'delivery' AS kind, y.deliveryId AS id, y.status AS a, y.channel AS b, y.dueAtMs AS c, null AS d
