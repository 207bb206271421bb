// People leave segments: the IN_SEGMENT edge goes, a SegmentChange stays in the person's history.
// Params: $rows: [{changeId, personId, segmentId, version, atMs, at, messageId, reason}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
MATCH (p)-[m:IN_SEGMENT]->(s:Segment {segmentId: r.segmentId})
DELETE m
CREATE (p)-[:SEGMENT_CHANGE]->(:SegmentChange {changeId: r.changeId, personId: r.personId,
        segmentId: r.segmentId, version: r.version, change: 'left', atMs: r.atMs, at: r.at,
        messageId: r.messageId, reason: r.reason})
