// Record a provider event on a delivery (after callback_lock said it is new, same transaction).
// `lastEvent` follows the latest event time. Params: $deliveryId, $type, $atMs, $props
MATCH (d:Delivery {deliveryId: $deliveryId})
CREATE (d)-[:HAD_EVENT]->(e:DeliveryEvent)
SET e += $props
SET d.lastEvent = CASE WHEN coalesce(d.lastEventAtMs, 0) <= $atMs THEN $type ELSE d.lastEvent END,
    d.lastEventAtMs = CASE WHEN coalesce(d.lastEventAtMs, 0) <= $atMs THEN $atMs ELSE d.lastEventAtMs END
