// explore.ipynb: session count, events per session and duration in minutes (average, maximum). No parameters.
MATCH (s:Session)
RETURN count(s) AS sessions, avg(s.eventCount) AS avgEvents, max(s.eventCount) AS maxEvents,
       avg(s.durationMs) / 60000.0 AS avgMinutes, max(s.durationMs) / 60000.0 AS maxMinutes
