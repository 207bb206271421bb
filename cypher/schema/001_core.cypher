// Schema 001: people, identities, events, sessions, accounts.
// Applied idempotently by `journeys schema apply` (every statement is IF NOT EXISTS).
CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.personId IS UNIQUE;
CREATE CONSTRAINT identity_key IF NOT EXISTS FOR (i:Identity) REQUIRE i.key IS UNIQUE;
CREATE CONSTRAINT event_message_id IF NOT EXISTS FOR (e:Event) REQUIRE e.messageId IS UNIQUE;
CREATE CONSTRAINT session_id IF NOT EXISTS FOR (s:Session) REQUIRE s.sessionId IS UNIQUE;
CREATE CONSTRAINT account_group_id IF NOT EXISTS FOR (a:Account) REQUIRE a.groupId IS UNIQUE;
CREATE INDEX person_user_id IF NOT EXISTS FOR (p:Person) ON (p.userId);
CREATE INDEX event_timestamp IF NOT EXISTS FOR (e:Event) ON (e.timestampMs);
CREATE INDEX event_name IF NOT EXISTS FOR (e:Event) ON (e.event);
CREATE INDEX session_end IF NOT EXISTS FOR (s:Session) ON (s.endedAtMs);
CREATE INDEX person_merge_from IF NOT EXISTS FOR (m:PersonMerge) ON (m.fromPersonId)
