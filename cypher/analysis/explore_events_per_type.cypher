// explore.ipynb: events per call type and track event name. No parameters.
MATCH (e:Event)
RETURN e.type AS type, e.event AS event, count(*) AS events
ORDER BY events DESC, type, event
