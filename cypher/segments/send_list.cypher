// The scheduled sends to one segment, newest first (few: a label scan). Params: $segmentId
MATCH (s:ScheduledSend)
WHERE s.segmentId = $segmentId
RETURN properties(s) AS send
ORDER BY s.createdAtMs DESC, s.sendId
