// Push, step 4 (placements): the version's placements and the offers each may show.
// Params: $key (the version's), $rows: [{key, placementId, channel, description,
//   offers: [{key, offerId, template, priority, score, tags, when (JSON or null)}]}]
MATCH (v:ConfigVersion {key: $key})
UNWIND $rows AS r
MATCH (c:Channel {channelId: r.channel})
CREATE (v)-[:HAS_PLACEMENT]->(p:Placement {
  key: r.key, placementId: r.placementId, channel: r.channel, description: r.description, versionKey: $key
})-[:ON_CHANNEL]->(c)
WITH p, r
UNWIND r.offers AS o
CREATE (p)-[:OFFERS]->(:Offer {
  key: o.key, offerId: o.offerId, template: o.template, priority: o.priority, score: o.score, tags: o.tags,
  when: o.when, placementId: r.placementId, versionKey: $key
})
