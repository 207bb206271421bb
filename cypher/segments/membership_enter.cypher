// People join segments: a SegmentChange in the person's history and the IN_SEGMENT edge (why on it: the
// event, the reason). The writer read, holding the person's lock, that they are not in the segment, so both
// are CREATEd (no MERGE lookup). Params: $rows: [{changeId, personId, segmentId, version, atMs, at,
// messageId, reason}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
MATCH (s:Segment {segmentId: r.segmentId})
CREATE (p)-[:SEGMENT_CHANGE]->(:SegmentChange {changeId: r.changeId, personId: r.personId,
        segmentId: r.segmentId, version: r.version, change: 'entered', atMs: r.atMs, at: r.at,
        messageId: r.messageId, reason: r.reason})
CREATE (p)-[:IN_SEGMENT {sinceMs: r.atMs, since: r.at, messageId: r.messageId, reason: r.reason,
                         version: r.version}]->(s)
