// A segment's members with what their time zone is read from. Params: $segmentId
MATCH (:Segment {segmentId: $segmentId})<-[:IN_SEGMENT]-(p:Person)
RETURN p.personId AS personId, p.timezone AS timezone, p.contextTimezone AS contextTimezone
