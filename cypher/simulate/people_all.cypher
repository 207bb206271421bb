// What-if replay: every person id, streamed once (one scan; the caller reads each page of ids' events and state
// in other read transactions as the stream goes). Read-only.
MATCH (p:Person)
RETURN p.personId AS personId
