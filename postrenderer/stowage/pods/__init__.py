"""Pods: where pod specs live in each kind, pod templates in config, and workloads."""
