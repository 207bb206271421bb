// Create a scheduled send (status 'scheduled'). Params: $sendId, $props (flat map: segmentId, journeyId, at,
// local, timezone, ratePerMinute, definition (JSON), createdAtMs, createdBy)
MERGE (s:ScheduledSend {sendId: $sendId})
ON CREATE SET s += $props, s.status = 'scheduled', s.entered = 0
RETURN s.status AS status, s.definition AS definition
