"""The storage layer: the only place that runs SQL."""
