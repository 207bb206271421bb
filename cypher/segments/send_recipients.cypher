// Who a scheduled send has entered already. Params: $sendId
MATCH (:ScheduledSend {sendId: $sendId})<-[:RECEIVED_SEND]-(p:Person)
RETURN p.personId AS personId
