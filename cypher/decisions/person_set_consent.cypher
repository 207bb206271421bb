// Consent set through the API or a delivery callback: replaces the person's edge on the channel whatever
// its time (an explicit instruction now beats what events said before). Params: $personId, $channelId,
// $status, $source, $atMs, $marketingOnly, $messageId (null: none)
MATCH (p:Person {personId: $personId})
MERGE (ch:Channel {channelId: $channelId})
MERGE (p)-[c:CONSENT]->(ch)
SET c.status = $status, c.source = $source, c.atMs = $atMs, c.marketingOnly = $marketingOnly,
    c.messageId = $messageId
RETURN ch.channelId AS channel, c.status AS status, c.source AS source, c.atMs AS atMs,
       c.marketingOnly AS marketingOnly, c.messageId AS messageId
