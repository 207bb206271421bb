// One scheduled send. Params: $sendId
MATCH (s:ScheduledSend {sendId: $sendId})
RETURN properties(s) AS send
