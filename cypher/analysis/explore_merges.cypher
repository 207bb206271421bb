// explore.ipynb: every PersonMerge with the event that caused it and whether its survivor still exists,
// newest first. No parameters.
MATCH (m:PersonMerge)
OPTIONAL MATCH (survivor:Person)-[:MERGED_FROM]->(m)
OPTIONAL MATCH (into:Person {personId: m.intoPersonId})
OPTIONAL MATCH (e:Event {messageId: m.messageId})
RETURN m.atMs AS atMs, m.reason AS reason, e.userId AS userId,
       coalesce(e.anonymousId, e.previousId) AS mergedId, m.messageId AS byMessage,
       survivor.userId AS survivorUserId, into IS NOT NULL AS intoStillExists
ORDER BY atMs DESC
