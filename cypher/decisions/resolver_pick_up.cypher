// Mark held in-app messages as picked up by an onsite decision, and their Delivery `delivered` (the in-app
// channel's delivery is the pickup). Params: $rows: [{actionId, decisionId, atMs}]
UNWIND $rows AS r
MATCH (a:ActionRequest {actionId: r.actionId})
SET a.pickup = 'picked', a.pickedAtMs = r.atMs, a.pickedBy = r.decisionId
WITH a, r
OPTIONAL MATCH (a)-[:DELIVERED_BY]->(d:Delivery)
WHERE d.status = 'held'
SET d.status = 'delivered', d.deliveredAtMs = r.atMs, d.lastEvent = 'delivered', d.dueBucket = null
