// Notebook 2: the delivery outbox per channel and status (pending, sent, held, retrying, dead, ...).
// No parameters.
MATCH (a:ActionRequest)-[:DELIVERED_BY]->(d:Delivery)
RETURN a.channel AS channel, d.status AS status, count(d) AS deliveries
ORDER BY channel, status
