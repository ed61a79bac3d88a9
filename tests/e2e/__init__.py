"""The e2e tier: stowage against a real Kubernetes control plane (cluster/kcluster.py)."""
