// Schema 012: segments (audiences). Heads and versions by key, membership history by change id, durable
// segment timers by minute bucket (equality-indexed, swept from TimerCursor {id: 'segments'}), batch
// evaluations by id.
CREATE CONSTRAINT segment_id IF NOT EXISTS FOR (s:Segment) REQUIRE s.segmentId IS UNIQUE;
CREATE CONSTRAINT segment_version_key IF NOT EXISTS FOR (v:SegmentVersion) REQUIRE v.key IS UNIQUE;
CREATE CONSTRAINT segment_change_id IF NOT EXISTS FOR (c:SegmentChange) REQUIRE c.changeId IS UNIQUE;
CREATE CONSTRAINT segment_timer_key IF NOT EXISTS FOR (t:SegmentTimer) REQUIRE t.key IS UNIQUE;
CREATE INDEX segment_timer_bucket IF NOT EXISTS FOR (t:SegmentTimer) ON (t.wakeBucket);
CREATE CONSTRAINT segment_evaluation_id IF NOT EXISTS FOR (e:SegmentEvaluation) REQUIRE e.evaluationId IS UNIQUE;
CREATE CONSTRAINT scheduled_send_id IF NOT EXISTS FOR (s:ScheduledSend) REQUIRE s.sendId IS UNIQUE
