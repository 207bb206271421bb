// Which of these messageIds are already in the graph (duplicates are skipped).
// Params: $ids (list of messageId)
UNWIND $ids AS id
MATCH (e:Event {messageId: id})
RETURN e.messageId AS messageId
