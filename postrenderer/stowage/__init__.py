"""stowage: attach durable storage to rendered Kubernetes manifests, and refuse unsafe setups."""

__version__ = "0.1.0"
