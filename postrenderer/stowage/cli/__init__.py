"""The `stowage` command line: parsing, dispatch, completion and the docs command."""
