// Schema 008: the delivery outbox dispatcher. Due deliveries are found by minute bucket (`dueBucket`, equality:
// indexed; for held in-app deliveries it is the expiry minute), swept from the DeliveryCursor. Kill-switch
// state lives on (:Channel {paused}) and (:Adapter {name, paused}); dead letters hang off one DeadLetters node.
CREATE INDEX delivery_due_bucket IF NOT EXISTS FOR (d:Delivery) ON (d.dueBucket);
CREATE CONSTRAINT delivery_cursor_id IF NOT EXISTS FOR (c:DeliveryCursor) REQUIRE c.id IS UNIQUE;
CREATE CONSTRAINT adapter_name IF NOT EXISTS FOR (a:Adapter) REQUIRE a.name IS UNIQUE;
CREATE CONSTRAINT dead_letters_id IF NOT EXISTS FOR (b:DeadLetters) REQUIRE b.id IS UNIQUE
