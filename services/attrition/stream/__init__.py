"""Stream wiring: the Faust app, its topics, tables and agents. Agents only move events
between topics and call the pure core (parse/, totals/, alerts/) and the sinks."""
