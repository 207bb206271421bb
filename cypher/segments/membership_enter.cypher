// People join segments: the IN_SEGMENT edge (why on it: the event, the reason) and a SegmentChange in the
// person's history. Params: $rows: [{changeId, personId, segmentId, version, atMs, at, messageId, reason}]
UNWIND $rows AS r
MATCH (p:Person {personId: r.personId})
MATCH (s:Segment {segmentId: r.segmentId})
MERGE (p)-[m:IN_SEGMENT]->(s)
ON CREATE SET m.sinceMs = r.atMs, m.since = r.at, m.messageId = r.messageId, m.reason = r.reason,
              m.version = r.version
CREATE (p)-[:SEGMENT_CHANGE]->(:SegmentChange {changeId: r.changeId, personId: r.personId,
        segmentId: r.segmentId, version: r.version, change: 'entered', atMs: r.atMs, at: r.at,
        messageId: r.messageId, reason: r.reason})
