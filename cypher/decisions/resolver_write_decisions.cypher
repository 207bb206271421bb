// Decision nodes, written in the deciding transaction: the person, the constraint (and placement) version
// that decided, the triggering event, and the journey versions among the candidates.
// Params: $rows: [{personId, props, constraintKey, placementsKey, trigger, versionKeys}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
CREATE (d:Decision)
SET d += r.props
CREATE (d)-[:FOR]->(p)
WITH d, r
OPTIONAL MATCH (cv:ConfigVersion {key: r.constraintKey})
FOREACH (x IN CASE WHEN cv IS NULL THEN [] ELSE [cv] END | CREATE (d)-[:UNDER]->(x))
WITH d, r
OPTIONAL MATCH (pv:ConfigVersion {key: r.placementsKey})
FOREACH (x IN CASE WHEN pv IS NULL THEN [] ELSE [pv] END | CREATE (d)-[:UNDER]->(x))
WITH d, r
OPTIONAL MATCH (e:Event {messageId: r.trigger})
FOREACH (x IN CASE WHEN e IS NULL THEN [] ELSE [e] END | CREATE (d)-[:TRIGGERED_BY]->(x))
WITH d, r
UNWIND r.versionKeys AS vk
MATCH (jv:JourneyVersion {key: vk})
CREATE (d)-[:IN_VERSION]->(jv)
