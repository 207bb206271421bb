// The scheduled sends not finished yet (few: a label scan).
MATCH (s:ScheduledSend)
WHERE s.status IN ['scheduled', 'running']
RETURN properties(s) AS send
ORDER BY s.sendId
