"""Attach: merge the plan's volumes, mounts, env, node pools and securityContext."""
