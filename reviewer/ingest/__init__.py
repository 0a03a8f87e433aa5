"""Reading LAION-style sources into an audit (issue 2)."""
