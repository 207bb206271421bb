// A person's deliveries (the outbox rows of messages chosen for them), newest first, for the explorer's
// timeline. Anchored on the person's unique personId.
//   :param personId => '3f1c...'
//   :param limit => 50
MATCH (p:Person {personId: $personId})<-[:TO]-(d:Delivery)
RETURN d.deliveryId AS deliveryId, d.channel AS channel, d.template AS template, d.status AS status,
       d.journeyId AS journeyId, d.stepId AS stepId, d.decisionId AS decisionId, d.attempts AS attempts,
       d.lastEvent AS lastEvent, coalesce(d.createdAtMs, d.dueAtMs, 0) AS atMs
ORDER BY atMs DESC, deliveryId
LIMIT $limit
