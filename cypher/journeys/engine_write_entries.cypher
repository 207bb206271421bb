// Which event enrolled the person. Params: $rows: [{enrollmentId, messageId}]
UNWIND $rows AS r
MATCH (en:Enrollment {enrollmentId: r.enrollmentId}), (e:Event {messageId: r.messageId})
CREATE (en)-[:ENTERED_BY]->(e)
