// Schema 003: durable timers by minute bucket. Graph servers index equality well but may scan for
// ranges, so a due-timer sweep looks up `wakeBucket` (= wakeAtMs / 60000) minute by minute, starting
// from the TimerCursor: the earliest bucket that can still hold a pending timer.
CREATE INDEX enrollment_wake_bucket IF NOT EXISTS FOR (en:Enrollment) ON (en.wakeBucket);
CREATE CONSTRAINT timer_cursor_id IF NOT EXISTS FOR (c:TimerCursor) REQUIRE c.id IS UNIQUE
