"""Bytes to records: the one decoding seam HTTP and gRPC share."""
