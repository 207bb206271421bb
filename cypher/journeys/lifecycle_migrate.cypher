// Move active enrollments from version $fromVersion to $toVersion by step mapping (lock-first on each
// enrollment, so an engine write in flight either lands first or sees the migrated enrollment).
// Timers (wakeAtMs, dueAtMs) are kept. Enrollments on unmapped steps stay where they are.
// Params: $journeyId, $fromVersion, $toVersion, $toKey (the new version's key), $atMs, $principal,
//         $mapping: [{from, to}] (step ids)
UNWIND $mapping AS m
MATCH (en:Enrollment {journeyId: $journeyId})
WHERE en.version = $fromVersion AND en.stepId = m.from AND en.status = 'active'
SET en._rev = coalesce(en._rev, 0) + 1
WITH en, m
WHERE en.version = $fromVersion AND en.stepId = m.from AND en.status = 'active'
MATCH (nv:JourneyVersion {key: $toKey}), (ns:Step {key: $toKey + '/' + m.to})
CALL (en) {
  MATCH (en)-[old:IN]->(:JourneyVersion)
  DELETE old
}
CALL (en) {
  MATCH (en)-[old:AT]->(:Step)
  DELETE old
}
SET en.version = $toVersion, en.stepId = m.to
REMOVE en._lock
CREATE (en)-[:IN]->(nv)
CREATE (en)-[:AT]->(ns)
CREATE (en)-[:MIGRATED {fromVersion: $fromVersion, toVersion: $toVersion, fromStep: m.from, toStep: m.to,
                        atMs: $atMs, principal: $principal}]->(ns)
RETURN m.from AS fromStep, count(en) AS moved
