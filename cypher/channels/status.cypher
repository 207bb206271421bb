// The status of one delivery (no row: no such delivery). Params: $deliveryId
MATCH (d:Delivery {deliveryId: $deliveryId})
RETURN d.status AS status
