// Each segment's current members (for overlaps between segments); segments without members too.
MATCH (s:Segment)
OPTIONAL MATCH (p:Person)-[:IN_SEGMENT]->(s)
RETURN s.segmentId AS segmentId, collect(p.personId) AS people
ORDER BY segmentId
