// Publish (constraints): the suppression lists people can be put on. Params: $rows: [{listId, channels, description}]
UNWIND $rows AS r
MERGE (l:SuppressionList {listId: r.listId})
SET l.channels = r.channels, l.description = r.description
