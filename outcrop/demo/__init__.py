"""Synthetic Bedrock workload for `outcrop demo`: OTLP spans plus invocation logs."""

from outcrop.demo.catalog import DEMO_PROFILES
from outcrop.demo.workload import WorkloadSummary, plan_workload, run_workload

__all__ = ["DEMO_PROFILES", "WorkloadSummary", "plan_workload", "run_workload"]
