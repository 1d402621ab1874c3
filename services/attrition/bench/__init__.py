"""`attrition bench`: throughput and latency measured side by side on one embedded broker.

One module per measurement; `runner` starts the broker once and runs them in turn."""
