// The delivery outbox: one pending Delivery per chosen message, written in the deciding transaction (so a
// decision and its delivery commit together or not at all). in_app deliveries are `held` until picked up.
// Idempotent by deliveryId (derived from the actionId). Params: $rows: [{actionId, personId, props}]
UNWIND $rows AS r
MATCH (a:ActionRequest {actionId: r.actionId}), (p:Person {personId: r.personId})
MERGE (d:Delivery {deliveryId: r.props.deliveryId})
ON CREATE SET d += r.props
MERGE (a)-[:DELIVERED_BY]->(d)
MERGE (d)-[:TO]->(p)
