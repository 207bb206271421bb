// Schema 011: drop indexes every ingest write pays for and no query uses (issue 8, throughput). Every read of
// events and sessions is anchored on the person (PERFORMED, HAD_SESSION) and filters `timestampMs`,
// `event` and `endedAtMs` on that person's own nodes, and range predicates are not answered from an index
// here anyway. `Event.event` has a handful of values (a low-cardinality index: each insert touches a long
// duplicate list); `Session.endedAtMs` changed on every batch that extended a session.
DROP INDEX event_timestamp IF EXISTS;
DROP INDEX event_name IF EXISTS;
DROP INDEX session_end IF EXISTS
