// People in a segment, longest-standing first. Params: $segmentId, $limit
MATCH (s:Segment {segmentId: $segmentId})<-[m:IN_SEGMENT]-(p:Person)
RETURN p.personId AS personId, p.userId AS userId, m.sinceMs AS sinceMs
ORDER BY m.sinceMs, p.personId
LIMIT $limit
