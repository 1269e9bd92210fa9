"""What every part of the app shares: configuration, errors, observability, AWS clients and small helpers."""
