// Mark held in-app messages as picked up by an onsite decision. Params: $rows: [{actionId, decisionId, atMs}]
UNWIND $rows AS r
MATCH (a:ActionRequest {actionId: r.actionId})
SET a.pickup = 'picked', a.pickedAtMs = r.atMs, a.pickedBy = r.decisionId
