// Pause or resume a channel (kill switch), audited. Params: $channelId, $paused, $audit: {auditId, action,
// principal, role, atMs, detail}
MERGE (c:Channel {channelId: $channelId})
SET c._rev = coalesce(c._rev, 0) + 1, c.paused = $paused, c.pausedBy = $audit.principal,
    c.pausedChangedAtMs = $audit.atMs
CREATE (c)-[:AUDITED]->(:AuditEntry {auditId: $audit.auditId, action: $audit.action, principal: $audit.principal,
  role: $audit.role, atMs: $audit.atMs, target: 'channel:' + $channelId, detail: $audit.detail})
RETURN c.channelId AS name, c.paused AS paused
