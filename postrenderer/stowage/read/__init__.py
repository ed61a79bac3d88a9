"""Read: split the manifest stream, load YAML documents (three loaders, one answer)."""
