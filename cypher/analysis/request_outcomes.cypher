// Notebook 2: journey action requests per outcome, blocking rule and channel (what the caps and the other
// rules stopped). No parameters.
MATCH (:Enrollment)-[:REQUESTED]->(a:ActionRequest)
RETURN a.status AS outcome, a.blockedBy AS blockedBy, a.channel AS channel, count(*) AS requests
ORDER BY requests DESC, outcome, blockedBy, channel
