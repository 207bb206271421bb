// How many people are in a segment now. Params: $segmentId
MATCH (s:Segment {segmentId: $segmentId})
OPTIONAL MATCH (s)<-[m:IN_SEGMENT]-(:Person)
RETURN count(m) AS members
