// Privacy (issue 9): tombstones of erased identities (checked by ingest, by key) and the anchor of the
// erasure audit log.
CREATE CONSTRAINT tombstone_key IF NOT EXISTS FOR (t:Tombstone) REQUIRE t.key IS UNIQUE;
CREATE CONSTRAINT privacy_log_id IF NOT EXISTS FOR (l:PrivacyLog) REQUIRE l.id IS UNIQUE
