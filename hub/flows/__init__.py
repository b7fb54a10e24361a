"""Control logic: flows of typed nodes, YAML blueprints, the engine that runs them."""
