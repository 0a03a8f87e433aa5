"""Statistics of an audit: intervals, agreement, precision, hate content rates."""
