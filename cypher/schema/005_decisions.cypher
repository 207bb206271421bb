// Schema 005: the resolver's constraint configuration, person consent and suppression, and the decision graph.
// Applied idempotently by `journeys schema apply` (every statement is IF NOT EXISTS).
// Channel nodes are MERGEd by the writers that link to them (a wiped test graph keeps no seeds).
CREATE CONSTRAINT channel_id IF NOT EXISTS FOR (c:Channel) REQUIRE c.channelId IS UNIQUE;
CREATE CONSTRAINT config_document_key IF NOT EXISTS FOR (d:ConfigDocument) REQUIRE d.key IS UNIQUE;
CREATE CONSTRAINT config_version_key IF NOT EXISTS FOR (v:ConfigVersion) REQUIRE v.key IS UNIQUE;
CREATE CONSTRAINT constraint_key IF NOT EXISTS FOR (k:Constraint) REQUIRE k.key IS UNIQUE;
CREATE CONSTRAINT suppression_list_id IF NOT EXISTS FOR (l:SuppressionList) REQUIRE l.listId IS UNIQUE;
CREATE CONSTRAINT decision_id IF NOT EXISTS FOR (d:Decision) REQUIRE d.decisionId IS UNIQUE;
CREATE CONSTRAINT placement_key IF NOT EXISTS FOR (p:Placement) REQUIRE p.key IS UNIQUE;
CREATE CONSTRAINT offer_key IF NOT EXISTS FOR (o:Offer) REQUIRE o.key IS UNIQUE;
CREATE CONSTRAINT delivery_id IF NOT EXISTS FOR (d:Delivery) REQUIRE d.deliveryId IS UNIQUE
