// Record send attempts. Every attempt becomes a DeliveryAttempt; the delivery's state changes only while the
// claim is still this dispatcher's (`claimToken`): a lease that expired and was claimed again leaves it to
// the newer claim. Returns the deliveries that went dead (for the dead-letter list).
// Params: $rows: [{deliveryId, claimToken, attempt: {...}, props: {status, attempts, dueAtMs, dueBucket, ...}}]
UNWIND $rows AS r
MATCH (d:Delivery {deliveryId: r.deliveryId})
CREATE (d)-[:ATTEMPT]->(:DeliveryAttempt {
  attemptId: r.attempt.attemptId, deliveryId: r.deliveryId, n: r.attempt.n, atMs: r.attempt.atMs,
  adapter: r.attempt.adapter, statusCode: r.attempt.statusCode, error: r.attempt.error,
  latencyMs: r.attempt.latencyMs, outcome: r.attempt.outcome, providerId: r.attempt.providerId,
  dispatcher: r.attempt.dispatcher
})
WITH d, r
WHERE d.claimToken = r.claimToken
SET d += r.props, d.claimedBy = null, d.claimToken = null, d.claimUntilMs = null
RETURN d.deliveryId AS deliveryId, d.status AS status
