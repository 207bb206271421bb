// The segment timer cursor: the earliest minute bucket that may hold a pending segment timer (null: none).
OPTIONAL MATCH (c:TimerCursor {id: 'segments'})
RETURN c.bucket AS bucket
