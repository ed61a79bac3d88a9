"""Plan: the config models, values, schema, variables, auto-mount and the plan itself."""
