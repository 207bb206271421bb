// Every segment membership change (entered / left) in time order, for sizes over time (analysis: a label scan
// over SegmentChange history).
MATCH (c:SegmentChange)
RETURN c.segmentId AS segmentId, c.change AS change, c.atMs AS atMs, c.personId AS personId
ORDER BY atMs, segmentId, change
