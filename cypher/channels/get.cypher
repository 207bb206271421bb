// One delivery with its attempts and callback events. Params: $deliveryId
MATCH (d:Delivery {deliveryId: $deliveryId})
OPTIONAL MATCH (d)-[:ATTEMPT]->(t:DeliveryAttempt)
WITH d, collect(properties(t)) AS attempts
OPTIONAL MATCH (d)-[:HAD_EVENT]->(e:DeliveryEvent)
RETURN properties(d) AS delivery, attempts, collect(properties(e)) AS events
