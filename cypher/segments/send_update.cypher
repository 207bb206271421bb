// Change a scheduled send's status fields. Params: $sendId, $props (flat map)
MATCH (s:ScheduledSend {sendId: $sendId})
SET s += $props
