// The timer cursor: the earliest minute bucket that may hold a pending timer (null: none ever).
OPTIONAL MATCH (c:TimerCursor {id: 'journeys'})
RETURN c.bucket AS bucket
