// Push, step 0 (its own transaction, before the push): the document and the Channel nodes exist.
// Creating them apart from the push means the push transaction only ever locks and reads committed nodes;
// two first pushes racing here get a ConstraintError on one side, which is retried and then finds them.
// Params: $docKey, $kind, $id, $atMs, $channels
MERGE (d:ConfigDocument {key: $docKey})
ON CREATE SET d.kind = $kind, d.id = $id, d.createdAtMs = $atMs, d.latestVersion = 0
WITH d
UNWIND $channels AS channelId
MERGE (:Channel {channelId: channelId})
