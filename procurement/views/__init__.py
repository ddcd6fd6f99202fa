"""Split by aggregate: one module per area (frameworks, orders, searches, notifications)."""
