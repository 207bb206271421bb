// Every journey version's status and checksum (the engine caches definitions by checksum).
MATCH (v:JourneyVersion)
RETURN v.key AS key, v.journeyId AS journeyId, v.version AS version, v.status AS status, v.checksum AS checksum
