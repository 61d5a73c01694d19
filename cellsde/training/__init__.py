"""Training population models (being assembled)."""
