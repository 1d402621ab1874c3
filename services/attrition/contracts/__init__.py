"""Public event contracts (pydantic models) and their vocabularies. No Kafka, no Faust."""
