// Put dead deliveries on the dead-letter list (one DeadLetters node, created on first use).
// Params: $ids
MERGE (b:DeadLetters {id: 'deliveries'})
WITH b
UNWIND $ids AS id
MATCH (d:Delivery {deliveryId: id})
MERGE (b)-[:DEAD]->(d)
