// A delivery callback, first: lock the delivery (a counter bump, before anything is read) and say whether
// this event id was recorded already. No row: no such delivery. Params: $deliveryId, $eventId
MATCH (d:Delivery {deliveryId: $deliveryId})
SET d._rev = coalesce(d._rev, 0) + 1
WITH d
OPTIONAL MATCH (seen:DeliveryEvent {eventId: $eventId})
RETURN d AS delivery, seen IS NOT NULL AS seen
