"""The Kafka-protocol broker edge: the embedded Tansu for local runs and tests, topic admin."""
