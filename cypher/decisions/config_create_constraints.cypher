// Push, step 3: the version's constraint nodes, each linked to the channels it applies to (none for the
// channel-independent ones: priority, arbitration, exclusion, global_control). config is canonical JSON.
// Params: $key (the version's), $rows: [{key, constraintId, kind, name, config, channels}]
MATCH (v:ConfigVersion {key: $key})
UNWIND $rows AS r
CREATE (v)-[:HAS_CONSTRAINT]->(k:Constraint {
  key: r.key, constraintId: r.constraintId, kind: r.kind, name: r.name, config: r.config, versionKey: $key
})
WITH k, r
UNWIND r.channels AS channelId
MATCH (c:Channel {channelId: channelId})
CREATE (k)-[:ON_CHANNEL]->(c)
