"""Write: the YAML emitter for what stowage changed."""
