// The kill switches: paused channels and adapters (a handful of nodes).
OPTIONAL MATCH (c:Channel) WHERE c.paused = true
WITH collect(c.channelId) AS channels
OPTIONAL MATCH (a:Adapter) WHERE a.paused = true
RETURN channels, collect(a.name) AS adapters
